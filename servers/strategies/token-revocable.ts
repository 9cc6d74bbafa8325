import { TokenError } from '../errors.js'
import { createRedisClient, storeCall, waitReady } from '../redis-client.js'
import { createTokenStrategy, type RefreshLedger } from './token-common.js'
import type { AuthStrategy, StrategyDeps } from './types.js'

/**
 * token-revocable: the same tokens plus ONE Redis GET per authenticated
 * request: `revoke:<userId>` holds a "valid after" stamp (ms); tokens issued
 * before it are refused with ERR_TOKEN_REVOKED.
 *
 * Trade-off (per-user stamp vs a jti denylist): the stamp is one small key
 * per user who ever logged out, one GET per request, and revokes refresh
 * tokens too with no bookkeeping — but logout ends the user's sessions on
 * EVERY device. A denylist of the presented tokens' ids would log out one
 * device only, at the cost of a jti in every access token and one key per
 * revoked token until it expires. `iat` carries milliseconds so a token
 * issued right after a stamp (password change re-issue) is valid while every
 * earlier one is not.
 *
 * Used refresh token ids are recorded in Redis (SET NX), so rotation holds
 * across instances.
 */
export function createRevocableTokenStrategy (deps: StrategyDeps): AuthStrategy {
  const client = createRedisClient({ url: deps.redisUrl, commandTimeoutMs: deps.redisCommandTimeoutMs, retryMs: deps.redisRetryMs, logger: deps.logger })

  const ledger: RefreshLedger = {
    use: async (jti, exp) => {
      const r = await storeCall(() => client.set(`rt-used:${jti}`, '1', 'EXAT', Math.ceil(exp), 'NX'))
      return r === 'OK'
    },
    close: async () => {},
  }

  return createTokenStrategy(deps, {
    name: 'token-revocable',
    ledger,
    checkRevoked: async (claims) => {
      const stamp = await storeCall(() => client.get(`revoke:${claims.sub}`))
      if (stamp !== null && Math.round(claims.iat * 1000) < Number(stamp)) throw new TokenError('ERR_TOKEN_REVOKED')
    },
    revokeUser: async (uid) => {
      // Kept as long as a refresh token issued before it could live; after that the stamp is moot.
      await storeCall(() => client.set(`revoke:${uid}`, String(Date.now()), 'EX', deps.refreshTtlS))
    },
    ready: async () => { await waitReady(client, 3000) },
    close: async () => { client.disconnect() },
  })
}
