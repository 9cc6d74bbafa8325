import { createRedisClient, waitReady } from '../redis-client.js'
import { RedisStore } from '../stores/redis-store.js'
import { createCookieStrategy } from './cookie-session.js'
import type { AuthStrategy, StrategyDeps } from './types.js'

/** redis: koa-session + a shared Redis store. Any instance can serve any session; one GET per request. */
export function createRedisStrategy (deps: StrategyDeps): AuthStrategy {
  const client = createRedisClient({ url: deps.redisUrl, commandTimeoutMs: deps.redisCommandTimeoutMs, retryMs: deps.redisRetryMs, logger: deps.logger })
  const store = new RedisStore({ client })
  const strategy = createCookieStrategy(deps, {
    name: 'redis',
    store,
    revokeScope: { scope: 'all' },
    ready: async () => { await waitReady(client, 3000) },
  })
  return {
    ...strategy,
    close: async () => { await strategy.close(); client.disconnect() },
  }
}
