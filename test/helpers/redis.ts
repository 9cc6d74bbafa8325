import type { Test } from 'tap'
import { hasRedisServer, startRedisServer, type RedisServer } from '../../bench/redis-server.js'

/**
 * A private redis-server for one test, stopped on teardown. When none can be
 * started: in CI the test fails (never passes silently); on a laptop it is
 * skipped with the reason. Returns undefined when skipped.
 */
export async function privateRedis (t: Test, opts: { persist?: boolean } = {}): Promise<RedisServer | undefined> {
  if (!hasRedisServer()) {
    const why = 'redis-server is not on PATH (apt-get install redis-server / brew install redis)'
    if (process.env['CI'] !== undefined) t.fail(why)
    else void t.skip(why, async () => {})
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

/**
 * True when a Redis can be had (redis-server on PATH or REDIS_URL). Otherwise
 * fails the test in CI and skips it, saying why, elsewhere.
 */
export function canHaveRedis (t: Test): boolean {
  if (hasRedisServer() || (process.env['REDIS_URL'] ?? '') !== '') return true
  const why = 'redis-server is not on PATH (apt-get install redis-server / brew install redis) and REDIS_URL is not set'
  if (process.env['CI'] !== undefined) t.fail(why)
  else void t.skip(why, async () => {})
  return false
}
