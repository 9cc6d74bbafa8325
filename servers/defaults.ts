import { join } from 'node:path'

/** The four ways an instance can authenticate a request. */
export const STRATEGIES = ['memory', 'redis', 'token', 'token-revocable'] as const
export type StrategyName = typeof STRATEGIES[number]

/** Whether `s` names a strategy. */
export function isStrategyName (s: string): s is StrategyName {
  return (STRATEGIES as readonly string[]).includes(s)
}

/** Default users DB path, relative to the process's working directory (gitignored). */
export function defaultUsersDbPath (cwd = process.cwd()): string {
  return join(cwd, '.data', 'users.db')
}

/**
 * The one defaults module for instances (servers/). Library code merges its
 * options over these; only servers/main.ts reads argv and env.
 */
export const SERVER_DEFAULTS = {
  /** TCP port; 0 picks a free one (the listening line reports it). */
  port: 0,
  host: '127.0.0.1',
  /** Stable instance id, sent as `x-instance-id` and used by the balancer's affinity cookie. */
  id: 's1',
  redisUrl: 'redis://127.0.0.1:6379',
  /**
   * Signs session cookies (koa `app.keys`) and, through HKDF, tokens. Every
   * instance of a cluster must share it. The default is for local runs only.
   */
  secret: 'sessionscale-dev-secret-change-me',
  /** Users seeded when the DB is missing or empty. */
  seedUsers: 1000,
  /** After SIGTERM, keep serving everything but /healthz for this long (ms). */
  drainMs: 3000,
  /** After the drain, wait this long (ms) for in-flight requests before forcing exit. */
  graceMs: 5000,
  /** Access token lifetime (s). */
  accessTtlS: 900,
  /** Refresh token lifetime (s). */
  refreshTtlS: 7 * 24 * 3600,
  /** Session lifetime (ms) for the cookie strategies, in the cookie and in the store. */
  sessionMaxAgeMs: 24 * 3600 * 1000,
  /** Largest JSON request body (bytes). */
  bodyLimitBytes: 16 * 1024,
  /** Login throttling: this many FAILURES per (username, address) within windowMs → 429. */
  loginMaxFailures: 5,
  loginWindowMs: 60_000,
  /** Trust X-Forwarded-For (koa `app.proxy`) for the client address. Default false. */
  trustProxy: false,
  /** Longer than the balancer agent's 30 s idle time so reused sockets are never reset by us. */
  keepAliveTimeoutMs: 65_000,
  headersTimeoutMs: 66_000,
  /** Redis fail-fast: a command waits at most this long (ms) → 503. */
  redisCommandTimeoutMs: 500,
  /** Redis reconnect interval while it is down (ms). */
  redisRetryMs: 200,
  logLevel: 'info',
  /** Language of a user who has not chosen one. */
  defaultLanguage: 'en',
} as const

/** scrypt parameters: N=2^15, r=8, p=1 is a safe production default (~32 MiB, tens of ms). */
export const SCRYPT_DEFAULTS = { N: 2 ** 15, r: 8, p: 1 } as const
