import type { Test } from 'tap'
import { hasRedisServer, startRedisServer, type RedisServer } from '../../bench/redis-server.js'

/**
 * Redis is real here, never mocked. Without one a test that needs it fails
 * with this message, everywhere: a skipped test would pass silently in CI,
 * and the README lists redis-server as a prerequisite.
 */
const NO_REDIS = 'this test needs Redis: install redis-server (apt-get install redis-server / brew install redis) or set REDIS_URL'

/**
 * A private redis-server for one test, stopped on teardown. Fails the test
 * and returns undefined when redis-server is not on PATH.
 */
export async function privateRedis (t: Test, opts: { persist?: boolean } = {}): Promise<RedisServer | undefined> {
  if (!hasRedisServer()) {
    t.fail(NO_REDIS)
    return undefined
  }
  const redis = await startRedisServer(opts)
  t.teardown(() => redis.close())
  return redis
}

/**
 * A Redis URL for a test that only needs a working Redis: REDIS_URL when set,
 * otherwise a private redis-server. Tests that stop or restart Redis must use
 * privateRedis() instead.
 */
export async function redisUrl (t: Test): Promise<string | undefined> {
  const fromEnv = process.env['REDIS_URL']
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  return (await privateRedis(t))?.url
}

/** True when a Redis can be had (redis-server on PATH or REDIS_URL); otherwise fails the test, saying why. */
export function canHaveRedis (t: Test): boolean {
  if (hasRedisServer() || (process.env['REDIS_URL'] ?? '') !== '') return true
  t.fail(NO_REDIS)
  return false
}
