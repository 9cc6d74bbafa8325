import { createTokenStrategy, MemoryLedger } from './token-common.js'
import type { AuthStrategy, StrategyDeps } from './types.js'

/**
 * token: stateless HS256 access tokens + rotated refresh tokens. No server
 * lookup per request, and so no way to revoke before expiry. The record of
 * used refresh tokens is in-process (see MemoryLedger).
 */
export function createPlainTokenStrategy (deps: StrategyDeps): AuthStrategy {
  return createTokenStrategy(deps, { name: 'token', ledger: new MemoryLedger() })
}
