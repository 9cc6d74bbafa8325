import type { SessionData, SessionStore } from './session-store.js'

export interface MemoryStoreOptions {
  /** Sweep expired sessions this often (ms). Default 60000. */
  sweepMs?: number
  now?: () => number
}

/**
 * Per-process session store: a Map with a TTL per entry (koa-session's
 * maxAge). Sessions vanish with the process and are unknown to other
 * instances — which is why this strategy needs sticky sessions. A per-user
 * index lets password change revoke the user's other sessions, but only
 * those on this instance.
 */
export class MemoryStore implements SessionStore {
  readonly #sessions = new Map<string, { data: SessionData, expiresAt: number }>()
  readonly #byUser = new Map<number, Set<string>>()
  readonly #now: () => number
  readonly #timer: NodeJS.Timeout

  constructor (opts: MemoryStoreOptions = {}) {
    this.#now = opts.now ?? Date.now
    this.#timer = setInterval(() => this.sweep(), opts.sweepMs ?? 60_000)
    this.#timer.unref()
  }

  get size (): number { return this.#sessions.size }

  async get (key: string, _maxAge?: number, _opts?: unknown): Promise<SessionData | undefined> {
    const e = this.#sessions.get(key)
    if (e === undefined) return undefined
    if (e.expiresAt <= this.#now()) { this.#remove(key); return undefined }
    return e.data
  }

  async set (key: string, sess: SessionData, maxAge: number, _opts?: unknown): Promise<void> {
    this.#remove(key)
    // Store a copy: koa-session hands us its live object.
    this.#sessions.set(key, { data: { ...sess }, expiresAt: this.#now() + maxAge })
    if (typeof sess.uid === 'number') {
      let keys = this.#byUser.get(sess.uid)
      if (keys === undefined) this.#byUser.set(sess.uid, keys = new Set())
      keys.add(key)
    }
  }

  async destroy (key: string, _opts?: unknown): Promise<void> {
    this.#remove(key)
  }

  async destroyOthers (uid: number, keep: string | undefined): Promise<number> {
    let n = 0
    for (const key of [...this.#byUser.get(uid) ?? []]) {
      if (key !== keep) { this.#remove(key); n++ }
    }
    return n
  }

  /** Drop expired sessions (also done lazily on get). */
  sweep (): void {
    const now = this.#now()
    for (const [key, e] of this.#sessions) if (e.expiresAt <= now) this.#remove(key)
  }

  async close (): Promise<void> {
    clearInterval(this.#timer)
  }

  #remove (key: string): void {
    const e = this.#sessions.get(key)
    if (e === undefined) return
    this.#sessions.delete(key)
    const uid = e.data.uid
    if (typeof uid === 'number') {
      const keys = this.#byUser.get(uid)
      keys?.delete(key)
      if (keys?.size === 0) this.#byUser.delete(uid)
    }
  }
}
