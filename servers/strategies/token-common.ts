import type Koa from 'koa'
import { TokenError, unauthenticated } from '../errors.js'
import { bearerToken, TokenSigner, type TokenClaims } from '../tokens.js'
import type { PublicUser } from '../users-db.js'
import type { StrategyName } from '../defaults.js'
import type { AuthStrategy, Body, Principal, StrategyDeps } from './types.js'

/** Records refresh token ids once used, so each refresh token is accepted once (rotation). */
export interface RefreshLedger {
  /** True the first time `jti` is used; false on reuse. `exp` (s) bounds how long to remember it. */
  use: (jti: string, exp: number) => Promise<boolean>
  close: () => Promise<void>
}

/**
 * In-process ledger (plain `token`): rotation holds on each instance, but a
 * refresh token used on instance A can be used once more on instance B.
 * Making it cluster-wide needs shared state — that is token-revocable.
 */
export class MemoryLedger implements RefreshLedger {
  readonly #used = new Map<string, number>()
  readonly #timer = setInterval(() => this.#sweep(), 60_000).unref()

  async use (jti: string, exp: number): Promise<boolean> {
    if (this.#used.has(jti)) return false
    this.#used.set(jti, exp)
    return true
  }

  #sweep (): void {
    const now = Date.now() / 1000
    for (const [jti, exp] of this.#used) if (exp <= now) this.#used.delete(jti)
  }

  async close (): Promise<void> { clearInterval(this.#timer) }
}

export interface TokenStrategyOptions {
  name: StrategyName
  ledger: RefreshLedger
  /** Extra check after the signature (token-revocable: the Redis stamp). Throws TokenError. */
  checkRevoked?: (claims: TokenClaims) => Promise<void>
  /** Revoke every token of the user issued before now. Undefined: the strategy cannot. */
  revokeUser?: (uid: number) => Promise<void>
  ready?: () => Promise<void>
  close?: () => Promise<void>
}

/** The token strategies: HS256 access + rotated refresh tokens, no session state. */
export function createTokenStrategy (deps: StrategyDeps, opts: TokenStrategyOptions): AuthStrategy {
  const signer = new TokenSigner({ secret: deps.secret })
  const { users } = deps

  const issue = (user: PublicUser, lang: string): Body => {
    const access = signer.sign({ sub: user.id, role: user.role, lang, use: 'access' }, deps.accessTtlS)
    const refresh = signer.sign({ sub: user.id, role: user.role, lang, use: 'refresh' }, deps.refreshTtlS)
    return { accessToken: access.token, refreshToken: refresh.token, tokenType: 'Bearer', expiresIn: deps.accessTtlS }
  }

  return {
    name: opts.name,
    ready: opts.ready ?? (async () => {}),

    async login (_ctx, user) {
      return { user, ...issue(user, deps.defaultLanguage) }
    },

    async authenticate (ctx) {
      const token = bearerToken(ctx.get('authorization') || undefined)
      if (token === undefined) throw unauthenticated('missing "Authorization: Bearer <token>" header')
      const c = signer.verify(token, 'access')
      if (opts.checkRevoked !== undefined) await opts.checkRevoked(c)
      // Tokens carry only the id; the username comes from an in-process cache over the users DB.
      const username = users.usernameOf(c.sub)
      if (username === undefined) throw unauthenticated('user no longer exists')
      return { user: { id: c.sub, username, role: c.role }, language: c.lang }
    },

    async logout (_ctx, p: Principal) {
      if (opts.revokeUser === undefined) {
        return { loggedOut: true, revoked: false, note: `stateless tokens cannot be revoked: drop them client-side; the access token stays valid until it expires (<= ${deps.accessTtlS} s)` }
      }
      await opts.revokeUser(p.user.id)
      return { loggedOut: true, revoked: true, scope: 'all tokens of the user (every device)' }
    },

    async refresh (_ctx, refreshToken) {
      const c = signer.verify(refreshToken, 'refresh')
      if (opts.checkRevoked !== undefined) await opts.checkRevoked(c)
      if (!await opts.ledger.use(c.jti!, c.exp)) throw new TokenError('ERR_TOKEN_REVOKED')
      // Re-read the user: a deleted user, a changed role or a changed password shows up here at the latest.
      const row = users.findById(c.sub)
      if (row === undefined) throw unauthenticated('user no longer exists')
      if (Math.round(c.iat * 1000) < row.passwordChangedAt) throw new TokenError('ERR_TOKEN_REVOKED')
      const user = { id: row.id, username: row.username, role: row.role }
      return { user, ...issue(user, c.lang) }
    },

    checkCsrf () {
      // Bearer tokens are never sent automatically by a browser: no CSRF to defend against.
    },

    async revokeOthers (_ctx, p) {
      if (opts.revokeUser === undefined) {
        // Refresh reads the users DB anyway, so refresh tokens issued before the change are refused
        // there (the caller's too: it gets a new pair). Access tokens cannot be reached.
        return {
          revokedOthers: false,
          refreshTokensRevoked: true,
          note: `stateless access tokens cannot be revoked before they expire: other devices keep access for up to ${deps.accessTtlS} s (their refresh tokens are refused)`,
          ...issue(p.user, p.language),
        }
      }
      await opts.revokeUser(p.user.id)
      // The caller's own tokens were revoked too: hand it a fresh pair issued after the stamp.
      return { revokedOthers: true, scope: 'all', ...issue(p.user, p.language) }
    },

    // Only the access token is re-issued (the API contract): the refresh token still carries the
    // language of login, so a later refresh reverts it. The state lives in the client's tokens —
    // that is the price of having no server-side session.
    async setLanguage (_ctx, p, language) {
      const access = signer.sign({ sub: p.user.id, role: p.user.role, lang: language, use: 'access' }, deps.accessTtlS)
      return { language, accessToken: access.token, expiresIn: deps.accessTtlS }
    },

    close: async () => {
      await opts.ledger.close()
      await opts.close?.()
    },
  }
}

