/** Session data as this app stores it (koa-session adds `_expire`, `_maxAge`). */
export interface SessionData {
  uid?: number
  username?: string
  role?: 'admin' | 'user'
  lang?: string
  csrf?: string
  [key: string]: unknown
}

/**
 * koa-session's external store contract plus the per-user index used to
 * revoke a user's other sessions on password change.
 */
export interface SessionStore {
  get: (key: string, maxAge: number, opts: { rolling: boolean, ctx: unknown }) => Promise<SessionData | undefined>
  /** `maxAge` in ms (koa-session adds 10 s so the store outlives the cookie). */
  set: (key: string, sess: SessionData, maxAge: number, opts: { rolling: boolean, changed: boolean, ctx: unknown }) => Promise<void>
  destroy: (key: string, opts: { ctx: unknown }) => Promise<void>
  /** Destroy every session of `uid` known to this store except `keep`; returns how many. */
  destroyOthers: (uid: number, keep: string | undefined) => Promise<number>
  close: () => Promise<void>
}

/** Checks an object implements the store contract, naming the missing method. */
export function checkStore (store: SessionStore): SessionStore {
  for (const m of ['get', 'set', 'destroy', 'destroyOthers', 'close'] as const) {
    if (typeof store[m] !== 'function') throw new TypeError(`store.${m} must be a function`)
  }
  return store
}
