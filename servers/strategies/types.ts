import type Koa from 'koa'
import type { Logger } from 'pino'
import type { StrategyName } from '../defaults.js'
import type { PublicUser, UsersDb } from '../users-db.js'

/** Who made the request, as the strategy authenticated it. */
export interface Principal {
  user: PublicUser
  language: string
  /** Cookie strategies: the session's CSRF token. */
  csrf?: string
  /** Cookie strategies: the session id (the store key). */
  sessionId?: string
}

/** A JSON response body (or the fields a strategy adds to one). */
export type Body = Record<string, unknown>

/** Everything a strategy may need, built once per process by startServer. */
export interface StrategyDeps {
  app: Koa
  users: UsersDb
  logger: Logger
  secret: string
  redisUrl: string
  redisCommandTimeoutMs: number
  redisRetryMs: number
  accessTtlS: number
  refreshTtlS: number
  sessionMaxAgeMs: number
  defaultLanguage: string
}

/**
 * One authentication strategy: the whole difference between the four
 * instance kinds. Routes (app.ts) parse and validate input, check
 * passwords and call these; adding a strategy = adding a file and one line
 * in strategies/index.ts. Methods throw HttpError (401, 503, …).
 */
export interface AuthStrategy {
  readonly name: StrategyName
  /** Runs around every route except /healthz (koa-session for the cookie strategies). */
  readonly middleware?: Koa.Middleware
  /** Resolves once external stores are usable, or after a short wait (then requests get 503 until they are). */
  ready: () => Promise<void>
  /** Start a session / issue tokens for a user whose password was just checked. Returns the response body. */
  login: (ctx: Koa.Context, user: PublicUser) => Promise<Body>
  /** Who is calling; throws 401 (or 503 when the store is down). The hot path: keep it lean. */
  authenticate: (ctx: Koa.Context) => Promise<Principal>
  /** End the caller's session / revoke its tokens where possible. Returns the response body. */
  logout: (ctx: Koa.Context, p: Principal) => Promise<Body>
  /** Exchange a refresh token for new tokens (token strategies); others throw 400 ERR_NOT_SUPPORTED. */
  refresh: (ctx: Koa.Context, refreshToken: string) => Promise<Body>
  /** Cookie strategies: throw 403 ERR_CSRF unless the x-csrf-token header matches. Token strategies: no-op. */
  checkCsrf: (ctx: Koa.Context, p: Principal) => void
  /** After a password change: revoke the user's other sessions/tokens as far as this strategy can. Returns body fields. */
  revokeOthers: (ctx: Koa.Context, p: Principal) => Promise<Body>
  /** Store the user's language (session) or re-issue an access token carrying it. Returns the response body. */
  setLanguage: (ctx: Koa.Context, p: Principal, language: string) => Promise<Body>
  close: () => Promise<void>
}
