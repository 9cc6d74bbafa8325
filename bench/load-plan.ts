/**
 * The load a benchmark or failover run sends, and what the load process
 * reports back. Shared by the parent (bench/load.ts) and the load process
 * (bench/load-worker.ts), which talk over IPC with these messages.
 */

/** How a user proves who it is: a session cookie (+ CSRF token for writes) or a bearer token. */
export type AuthKind = 'cookie' | 'token'

export interface LoadConfig {
  /** Balancer URL, always loopback. */
  url: string
  auth: AuthKind
  /** Concurrent connections; each one is one distinct user. */
  connections: number
  /** Users are user<offset+1> … user<offset+connections>. */
  userOffset: number
  /** Warm-up seconds (every user logs in here); not measured. 0 skips warm-up. */
  warmupSec: number
  /** Measured seconds. */
  durationSec: number
  /** Share (0..1) of authenticated requests that are PUT /api/preferences. */
  writeRatio: number
  /** Per-request timeout, seconds. */
  timeoutSec: number
  /** When > 0: send a 'tick' message with counters every this many ms of the measured phase. */
  tickMs: number
  /** Parse /api/me bodies and check each user still sees the language it last set (failover). */
  verifyPreferences: boolean
}

/** Counters of one phase, also sent in ticks (cumulative since the phase started). */
export interface LoadCounters {
  /** Responses received (logins included). */
  responses: number
  /** Authenticated API requests answered 2xx. */
  ok: number
  /** Logins answered 2xx. */
  logins: number
  /** Users who got a 401 on an authenticated request and logged in again. */
  relogins: number
  /** Preferences writes that succeeded. */
  writes: number
  /** Responses by status. */
  status: Record<string, number>
  /** Responses by the x-instance-id that served them. */
  byInstance: Record<string, number>
  /** Connection errors (not timeouts). */
  errors: number
  timeouts: number
  /** GET /api/me that failed: 5xx, connection error or timeout (a 401 is a lost session, counted apart). */
  failedGets: number
  /** Distinct users who had to log in again at least once. */
  usersRelogged: number
  /** Distinct users who were served by another instance than the one before, at least once. */
  usersMoved: number
  /** Distinct users who saw a language other than the one they last set (needs verifyPreferences). */
  preferencesLost: number
}

export interface LoadResult extends LoadCounters {
  durationSec: number
  /** Latency of every response, ms with sub-millisecond precision (from autocannon's hrtime per response). */
  latencyMs: { mean: number, p50: number, p90: number, p99: number, max: number }
  /** Users logged in at the end of the phase. */
  usersLoggedIn: number
  /** Users whose pinned instance (the last one that served them) is each instance id. */
  pinnedByInstance: Record<string, number>
}

export type ParentMessage =
  | { type: 'start', config: LoadConfig }
  | { type: 'go' }
  | { type: 'stop' }

export type WorkerMessage =
  | { type: 'warm', result: LoadResult }
  | { type: 'tick', elapsedMs: number, counters: LoadCounters, pinnedByInstance: Record<string, number>, latencyP99Ms: number }
  | { type: 'done', result: LoadResult }
  | { type: 'error', message: string }

export function emptyCounters (): LoadCounters {
  return { responses: 0, ok: 0, logins: 0, relogins: 0, writes: 0, status: {}, byInstance: {}, errors: 0, timeouts: 0, failedGets: 0, usersRelogged: 0, usersMoved: 0, preferencesLost: 0 }
}
