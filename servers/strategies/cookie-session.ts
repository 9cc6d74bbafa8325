import { randomBytes, timingSafeEqual } from 'node:crypto'
import type Koa from 'koa'
import session from 'koa-session'
import { csrf, HttpError, unauthenticated } from '../errors.js'
import { checkStore, type SessionData, type SessionStore } from '../stores/session-store.js'
import type { StrategyName } from '../defaults.js'
import type { AuthStrategy, StrategyDeps } from './types.js'
import { CookieSigner } from '../cookie-signer.js'

/** koa-session's `ctx.session` (untyped upstream): our data plus the methods we use. */
type Session = SessionData & {
  readonly isNew: boolean
  readonly externalKey?: string
  regenerate: () => Promise<void>
  toJSON: () => Record<string, unknown>
}

const sessionOf = (ctx: Koa.Context): Session | null => (ctx as unknown as { session: Session | null }).session

/** Name of the session cookie (the signature goes in `sid.sig`). */
export const SESSION_COOKIE = 'sid'

export interface CookieStrategyOptions {
  name: StrategyName
  store: SessionStore
  /** Body fields describing what revokeOthers could reach, e.g. `{scope: 'instance', note}`. */
  revokeScope: Record<string, unknown>
  ready?: () => Promise<void>
}

/**
 * The cookie-session strategies (memory, redis): koa-session with an
 * external store, so the cookie holds only a signed random id. They differ
 * only in their store.
 */
export function createCookieStrategy (deps: StrategyDeps, opts: CookieStrategyOptions): AuthStrategy {
  const store = checkStore(opts.store)
  const { app } = deps
  // Signs the session cookie (`sid.sig`): a tampered or unsigned id is ignored.
  // koa hands app.keys to `cookies`, which takes any Keygrip-shaped object.
  app.keys = new CookieSigner(deps.secret) as unknown as string[]
  const middleware = session({
    key: SESSION_COOKIE,
    maxAge: deps.sessionMaxAgeMs,
    httpOnly: true,
    signed: true,
    sameSite: 'lax',
    rolling: false,
    renew: false,
    // Only koa-session's three methods; the rest of SessionStore is ours.
    store: {
      get: (key: string, maxAge: number, o: { rolling: boolean, ctx: unknown }) => store.get(key, maxAge, o),
      set: (key: string, sess: SessionData, maxAge: number, o: { rolling: boolean, changed: boolean, ctx: unknown }) => store.set(key, sess, maxAge, o),
      destroy: (key: string, o: { ctx: unknown }) => store.destroy(key, o),
    },
  } as Parameters<typeof session>[0], app) as Koa.Middleware

  return {
    name: opts.name,
    middleware,
    ready: opts.ready ?? (async () => {}),

    async login (ctx, user) {
      const s = sessionOf(ctx)
      if (s === null) throw new HttpError(500, 'ERR_INTERNAL', 'session middleware missing')
      if (!s.isNew) {
        // An existing session (even an anonymous one) never becomes the logged-in one:
        // destroy it and move to a new id, so a planted id cannot be fixated.
        for (const k of Object.keys(s.toJSON())) delete s[k]
        await s.regenerate()
      }
      // A new session's id comes from our genid (randomUUID), never from the client.
      const csrfToken = randomBytes(24).toString('base64url')
      Object.assign(s, { uid: user.id, username: user.username, role: user.role, lang: deps.defaultLanguage, csrf: csrfToken })
      return { user, csrfToken }
    },

    async authenticate (ctx) {
      const s = sessionOf(ctx)
      if (s === null || typeof s.uid !== 'number' || typeof s.username !== 'string' || (s.role !== 'admin' && s.role !== 'user')) {
        throw unauthenticated()
      }
      return {
        user: { id: s.uid, username: s.username, role: s.role },
        language: s.lang ?? deps.defaultLanguage,
        csrf: s.csrf,
        sessionId: s.externalKey,
      }
    },

    async logout (ctx) {
      // koa-session destroys it in the store and expires the cookie on commit.
      (ctx as unknown as { session: null }).session = null
      return { loggedOut: true }
    },

    async refresh () {
      throw new HttpError(400, 'ERR_NOT_SUPPORTED', 'cookie sessions have no refresh tokens: the session lives in the store')
    },

    checkCsrf (ctx, p) {
      const header = ctx.get('x-csrf-token')
      const a = Buffer.from(header)
      const b = Buffer.from(p.csrf ?? '')
      if (header === '' || b.length === 0 || a.length !== b.length || !timingSafeEqual(a, b)) throw csrf()
    },

    async revokeOthers (_ctx, p) {
      const revokedSessions = await store.destroyOthers(p.user.id, p.sessionId)
      return { revokedOthers: true, revokedSessions, ...opts.revokeScope }
    },

    async setLanguage (ctx, _p, language) {
      const s = sessionOf(ctx)
      if (s !== null) s.lang = language
      return { language }
    },

    close: () => store.close(),
  }
}
