import type { StrategyName } from '../defaults.js'
import { createMemoryStrategy } from './memory.js'
import { createRedisStrategy } from './redis.js'
import { createPlainTokenStrategy } from './token.js'
import { createRevocableTokenStrategy } from './token-revocable.js'
import type { AuthStrategy, StrategyDeps } from './types.js'

export type { AuthStrategy, StrategyDeps, Principal } from './types.js'

/** Strategy name → factory. Adding a strategy = one file + one line here (and its name in defaults.ts). */
export const strategyFactories: Record<StrategyName, (deps: StrategyDeps) => AuthStrategy> = {
  memory: createMemoryStrategy,
  redis: createRedisStrategy,
  token: createPlainTokenStrategy,
  'token-revocable': createRevocableTokenStrategy,
}

export function createStrategy (name: StrategyName, deps: StrategyDeps): AuthStrategy {
  const factory = strategyFactories[name]
  if (factory === undefined) throw new TypeError(`strategy must be one of ${Object.keys(strategyFactories).join(', ')}`)
  return factory(deps)
}
