/**
 * The one defaults module of the balancer. Library code takes a typed
 * options object; only balancer/main.ts reads argv and env.
 */
export type PolicyName = 'sticky' | 'round-robin' | 'least-conn' | 'hash'
export const POLICY_NAMES: readonly PolicyName[] = ['sticky', 'round-robin', 'least-conn', 'hash']

export interface BackendSpec {
  /** Stable backend id (cookie value names it). Default: derived from the URL, see backendIdFromUrl(). */
  id?: string
  /** `http://host:port` of the instance. */
  url: string
}

export interface BalancerOptions {
  /** Backends to start with (may be empty: add them on the admin API). */
  backends: BackendSpec[]
  /** Routing policy. Default 'sticky'. */
  policy?: PolicyName
  /** Port of the proxy. Default 0 (ephemeral). */
  port?: number
  /** Host the proxy binds. Default 127.0.0.1. */
  host?: string
  /** Port of the admin API. Default 0 (ephemeral). */
  adminPort?: number
  /** Host the admin API binds. Default 127.0.0.1 (loopback only). */
  adminHost?: string
  /** HMAC secret of the affinity cookie. Balancers sharing it route cookies alike. Default: random per process. */
  secret?: string
  /** Name of the affinity cookie. Default 'lb'. */
  cookieName?: string
  /** Active health check interval, ms. Default 1000. */
  healthInterval?: number
  /** Interval while a backend's state is changing (after one check that differs), ms. Default 200. */
  healthFastInterval?: number
  /** Timeout of one health check, ms. Default 1000. */
  healthTimeout?: number
  /** Path of the health check. Default '/healthz'. */
  healthPath?: string
  /** Consecutive good checks that bring a down backend up. Default 2. */
  rise?: number
  /** Consecutive failed checks that take an up backend down. Default 2. */
  fall?: number
  /** Consecutive 5xx answers that mark a backend down passively. Default 10. */
  fall5xx?: number
  /** Upstream connect timeout, ms. Default 2000. */
  connectTimeout?: number
  /** Upstream response (headers) timeout, ms. Default 30000. */
  timeout?: number
  /** Request bodies up to this many bytes are buffered so they can be re-sent on retry. Default 65536. */
  bodyBufferLimit?: number
  /** Attempts per request including the first. Default 3. */
  maxAttempts?: number
  /** Sockets per backend in the keep-alive agent. Default 256. */
  maxSockets?: number
  /** Idle keep-alive socket timeout towards backends, ms (backends keep 65 s). Default 30000. */
  keepAliveIdle?: number
  /** Grace for in-flight requests on close(), ms. Default 10000. */
  closeGrace?: number
  /** Bounded-load factor of the hash policy (1.25 = no backend above 125 % of its share). Default 1.25. */
  hashLoadFactor?: number
  /** Virtual nodes per backend on the hash ring. Default 160. */
  hashVnodes?: number
  /** Session cookie(s) the hash policy keys on, comma-separated, first present wins. Default 'koa.sess,sid'. */
  hashCookie?: string
  /** pino log level. Default 'info'. */
  logLevel?: string
}

export const DEFAULTS = {
  policy: 'sticky' as PolicyName,
  port: 0,
  host: '127.0.0.1',
  adminPort: 0,
  adminHost: '127.0.0.1',
  cookieName: 'lb',
  healthInterval: 1000,
  healthFastInterval: 200,
  healthTimeout: 1000,
  healthPath: '/healthz',
  rise: 2,
  fall: 2,
  fall5xx: 10,
  connectTimeout: 2000,
  timeout: 30_000,
  bodyBufferLimit: 64 * 1024,
  maxAttempts: 3,
  maxSockets: 256,
  keepAliveIdle: 30_000,
  closeGrace: 10_000,
  hashLoadFactor: 1.25,
  hashVnodes: 160,
  hashCookie: 'koa.sess,sid',
  logLevel: 'info',
} as const

export type ResolvedOptions = Required<Omit<BalancerOptions, 'secret'>> & { secret: string, secretGenerated: boolean }
