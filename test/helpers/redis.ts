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
