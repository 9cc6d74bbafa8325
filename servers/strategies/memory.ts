import { MemoryStore } from '../stores/memory-store.js'
import { createCookieStrategy } from './cookie-session.js'
import type { AuthStrategy, StrategyDeps } from './types.js'

/** memory: koa-session + a per-process store. Needs sticky sessions; a restart logs everyone out. */
export function createMemoryStrategy (deps: StrategyDeps): AuthStrategy {
  return createCookieStrategy(deps, {
    name: 'memory',
    store: new MemoryStore(),
    revokeScope: { scope: 'instance', note: 'sessions live in each instance\'s memory: only the user\'s other sessions on this instance were revoked' },
  })
}
