/**
 * The data a benchmark run produces: `report.json` is exactly a `Report`.
 * Renderers (terminal, Markdown, HTML) and `compare` read only this.
 * Bump SCHEMA_VERSION on any incompatible change.
 */
export const SCHEMA_VERSION = 1

export type Strategy = 'memory' | 'redis' | 'token' | 'token-revocable'
export type Policy = 'sticky' | 'round-robin' | 'least-conn' | 'hash'

/** Per-component figures. "instances" is the sum over all instances of the run. */
export interface ByComponent<T> {
  balancer: T
  instances: T
  redis: T
  load: T
}

export interface RunResult {
  /** Stable key for compare: `${strategy}/${policy}/b${backends}/c${connections}` (repeat not included). */
  key: string
  strategy: Strategy
  policy: Policy
  backends: number
  connections: number
  /** 0-based index among repeated runs of the same key. */
  repeat: number
  /** True for the memory + round-robin control that shows sessions breaking without stickiness. */
  control: boolean
  /** Measured wall time of the measured phase, seconds. */
  durationSec: number
  requests: {
    /** All responses received in the measured phase (logins included). */
    total: number
    /** Authenticated API requests (GET /api/me, PUT /api/preferences) answered 2xx. */
    ok: number
    /** total / durationSec. */
    perSec: number
    /** Logins made in the measured phase (first logins happen in warm-up; these are re-logins). */
    logins: number
  }
  /** Latency of all responses, milliseconds. */
  latencyMs: { mean: number, p50: number, p90: number, p99: number, max: number }
  /** Responses by the instance that served them (x-instance-id): how evenly the policy spread the load. */
  requestsByInstance: Record<string, number>
  /** Response count by HTTP status ("200", "401", …). Sums to requests.total. */
  statusCounts: Record<string, number>
  /** Connection errors (refused, reset) seen by the load generator. */
  errors: number
  /** Requests that got no response within the load generator's timeout. */
  timeouts: number
  /** A user whose authenticated request got 401 and who logged in again: a lost session. */
  relogins: number
  /** CPU time (user+system) per request, microseconds, from /proc/<pid>/stat deltas. */
  cpuUsPerRequest: ByComponent<number> & { total: number }
  /** Raw CPU time of each component over the measured phase, microseconds. */
  cpuUs: ByComponent<number>
  /** Peak resident memory seen during the run, bytes (instances: sum of each instance's peak). */
  peakRssBytes: ByComponent<number>
  /** Redis commands per request (INFO commandstats delta); null when the run uses no Redis. */
  redis: { commandsPerRequest: number, commands: Record<string, number> } | null
  /**
   * Memory held per 1,000 sessions: Redis used_memory growth over the warm-up logins
   * (redis), or the memory store's heap per session measured in the bench process
   * (memory); null where the server keeps no per-user state (token strategies).
   */
  memoryPer1000Sessions: { bytes: number, source: 'redis used_memory' | 'memory store heap' } | null
  /** Share (0..1) of the machine's CPU used by processes other than ours during the run. */
  otherLoad: number
  /** Warnings about this run, e.g. 'load-generator-above-balancer', 'machine-busy', 'errors'. */
  flags: string[]
}

export interface Report {
  schemaVersion: typeof SCHEMA_VERSION
  /** ISO time the run started. */
  createdAt: string
  machine: {
    cores: number
    cpuModel: string
    totalMemBytes: number
    platform: string
    arch: string
    kernel: string
    /** 1-minute load average when the run started. */
    loadAvg1: number
  }
  /** node, sessionscale, koa, koa-session, ioredis, http-proxy, autocannon, redis-server, … */
  versions: Record<string, string>
  config: {
    strategies: Strategy[]
    /** Instance counts tried, e.g. [2] or [1, 2, 4]. */
    backends: number[]
    /** Traffic levels: concurrent connections, each one distinct user. */
    connections: number[]
    /** Measured seconds per run. */
    durationSec: number
    /** Warm-up seconds per run (every user logs in), not measured. */
    warmupSec: number
    /** 'auto': memory → sticky, the others → round-robin. */
    policy: 'auto' | Policy
    /** Memory + round-robin runs added, which show sessions breaking without stickiness. */
    controls: boolean
    /** Repeated runs of each configuration (their spread tells noise from change). */
    repeat: number
    /** Share (0..1) of requests that are PUT /api/preferences. */
    writeRatio: number
    /** scrypt parameters the users DB was seeded with for this run. */
    scrypt: { N: number, r: number, p: number }
    users: number
    /** Where the latency precision comes from, e.g. "autocannon: whole milliseconds". */
    latencyPrecision: string
  }
  runs: RunResult[]
  /** Free-form notes (e.g. targets checked, warnings). */
  notes: string[]
}
