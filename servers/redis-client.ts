import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { StoreUnavailableError } from './errors.js'

export interface RedisClientOptions {
  url: string
  /** A command waits at most this long (ms) before failing. */
  commandTimeoutMs: number
  /** Reconnect every this many ms while Redis is down. */
  retryMs: number
  logger: Logger
}

/**
 * An ioredis client that FAILS FAST: ioredis defaults make a command wait
 * ~74 s while Redis is down (DESIGN.md). Here a command fails at once when
 * disconnected (no offline queue, one retry at most) or after
 * commandTimeoutMs, and the client keeps reconnecting forever so it heals
 * when Redis comes back.
 */
export function createRedisClient (opts: RedisClientOptions): Redis {
  const client = new Redis(opts.url, {
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs,
    enableOfflineQueue: false,
    connectTimeout: Math.max(1000, opts.commandTimeoutMs * 2),
    retryStrategy: () => opts.retryMs,
  })
  // Log transitions only: while Redis is down ioredis emits an error per reconnect attempt.
  let up = true
  client.on('error', (err: Error) => {
    if (up) opts.logger.warn({ err: { message: err.message } }, 'redis unavailable')
    up = false
  })
  client.on('ready', () => {
    if (!up) opts.logger.info('redis available again')
    up = true
  })
  return client
}

/** Resolve once the client is ready, or after `timeoutMs` anyway (the instance serves 503s until Redis is up). */
export function waitReady (client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true)
  return new Promise((resolve) => {
    const t = setTimeout(() => { client.off('ready', onReady); resolve(false) }, timeoutMs)
    const onReady = (): void => { clearTimeout(t); resolve(true) }
    client.once('ready', onReady)
  })
}

/** Run a Redis call, turning any failure into 503 ERR_STORE_UNAVAILABLE (never a 500, never a hang). */
export async function storeCall<T> (fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw new StoreUnavailableError(err)
  }
}
