import type { Redis } from 'ioredis'
import { storeCall } from '../redis-client.js'
import type { SessionData, SessionStore } from './session-store.js'

export interface RedisStoreOptions {
  client: Redis
  /** Session key prefix. Default 'sess:'. */
  prefix?: string
  /** Per-user index prefix (a set of session ids). Default 'user-sess:'. */
  userPrefix?: string
}

/**
 * Shared session store on Redis (koa-redis is stale). One GET per
 * authenticated request; any Redis failure becomes 503
 * ERR_STORE_UNAVAILABLE — koa-session would otherwise answer 500 for every
 * request carrying the cookie.
 *
 * The per-user index `user-sess:<uid>` (a set) is written on save and
 * expires with the newest session; destroy does not SREM (it would need the
 * uid: one more GET), so the set may hold dead ids, which destroyOthers
 * deletes harmlessly and prunes.
 */
export class RedisStore implements SessionStore {
  readonly #client: Redis
  readonly #prefix: string
  readonly #userPrefix: string

  constructor (opts: RedisStoreOptions) {
    if (opts.client === undefined) throw new TypeError('client must be an ioredis client')
    this.#client = opts.client
    this.#prefix = opts.prefix ?? 'sess:'
    this.#userPrefix = opts.userPrefix ?? 'user-sess:'
  }

  async get (key: string, _maxAge?: number, _opts?: unknown): Promise<SessionData | undefined> {
    const raw = await storeCall(() => this.#client.get(this.#prefix + key))
    if (raw === null) return undefined
    try {
      return JSON.parse(raw) as SessionData
    } catch {
      return undefined
    }
  }

  async set (key: string, sess: SessionData, maxAge: number, _opts?: unknown): Promise<void> {
    const ttl = Math.max(1, Math.ceil(maxAge))
    await storeCall(async () => {
      const ops: Array<Promise<unknown>> = [this.#client.set(this.#prefix + key, JSON.stringify(sess), 'PX', ttl)]
      if (typeof sess.uid === 'number') {
        const idx = this.#userPrefix + String(sess.uid)
        ops.push(this.#client.sadd(idx, key), this.#client.pexpire(idx, ttl))
      }
      await Promise.all(ops)
    })
  }

  async destroy (key: string, _opts?: unknown): Promise<void> {
    await storeCall(() => this.#client.del(this.#prefix + key))
  }

  async destroyOthers (uid: number, keep: string | undefined): Promise<number> {
    const idx = this.#userPrefix + String(uid)
    return storeCall(async () => {
      const keys = (await this.#client.smembers(idx)).filter((k) => k !== keep)
      if (keys.length === 0) return 0
      const [deleted] = await Promise.all([
        this.#client.del(...keys.map((k) => this.#prefix + k)),
        this.#client.srem(idx, ...keys),
      ])
      return deleted
    })
  }

  async close (): Promise<void> {}
}
