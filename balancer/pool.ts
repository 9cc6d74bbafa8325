/**
 * The backend pool: ids, states, counters and the active health checker.
 * State changes are emitted as events (`backend:up`, `backend:down`,
 * `backend:draining`, `backend:added`, `backend:removed`) with a
 * `BackendEvent` payload; the balancer logs them.
 */
import { EventEmitter } from 'node:events'
import { createHash } from 'node:crypto'
import http from 'node:http'
import { parse as legacyParse, type UrlWithStringQuery } from 'node:url'
import { signAffinity } from './affinity.js'
import { applyCheck, checkOnce, initialHealth, isTransitioning, markDownPassive, type CheckResult, type HealthCounters } from './health.js'
import { AdminInputError, ConflictError, NotFoundError } from './errors.js'

export type BackendState = 'up' | 'down' | 'draining'

export interface BackendEvent { id: string, url: string, state: BackendState, previous: BackendState | undefined, reason: string }

/**
 * Stable id of a backend given as a bare URL: 'b' + the first 8 hex digits of
 * SHA-256 of the normalized URL (origin), e.g. `b3f1c09ad`. Same URL → same id
 * on every balancer, so cookies stay valid across balancers and restarts.
 */
export function backendIdFromUrl (url: string): string {
  return 'b' + createHash('sha256').update(new URL(url).origin).digest('hex').slice(0, 8)
}

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/

/** Check a backend spec; returns the normalized origin. Messages name the field. */
export function checkBackendSpec (id: string, url: string, field = 'backend'): string {
  if (!ID_RE.test(id)) throw new AdminInputError(`${field} id must match ${ID_RE.source}, got "${id}"`)
  let u: URL
  try { u = new URL(url) } catch { throw new AdminInputError(`${field} must be an http:// URL, got "${url}"`) }
  if (u.protocol !== 'http:' || u.port === '' && u.hostname === '') throw new AdminInputError(`${field} must be an http:// URL, got "${url}"`)
  if ((u.pathname !== '/' && u.pathname !== '') || u.search !== '') throw new AdminInputError(`${field} URL must have no path or query, got "${url}"`)
  return u.origin
}

export class Backend {
  readonly id: string
  readonly url: string
  /** Pre-parsed target for http-proxy (it would url.parse a string on every request). */
  readonly target: UrlWithStringQuery
  readonly parsed: URL
  /** Signed affinity cookie value naming this backend. */
  readonly cookie: string
  readonly health: HealthCounters = initialHealth()
  adminDrain = false
  state: BackendState = 'up'
  inFlight = 0
  requests = 0
  failures = 0
  retries = 0
  rebounds = 0
  /**
   * Estimate of users pinned here: affinity cookies issued for this backend
   * (new users + rebounds to it) minus users re-pinned away from it. Users who
   * simply stop coming are never subtracted, so it is an upper bound.
   */
  pinned = 0
  run5xx = 0
  /** Responses by status code, turned into Prometheus counters at scrape time. */
  readonly statusCounts = new Map<number, number>()
  timer: NodeJS.Timeout | undefined
  removed = false
  constructor (id: string, url: string, secret: string) {
    this.id = id
    this.url = url
    this.parsed = new URL(url)
    this.target = legacyParse(url)
    this.cookie = signAffinity(secret, id)
  }
}

export interface PoolOptions {
  secret: string
  healthInterval: number
  healthFastInterval: number
  healthTimeout: number
  healthPath: string
  rise: number
  fall: number
  fall5xx: number
}

export class Pool extends EventEmitter {
  /** All backends in insertion order; policies filter by state. */
  backends: Backend[] = []
  /** Bumped on every membership or state change (policies cache on it). */
  version = 0
  private readonly byId = new Map<string, Backend>()
  private readonly opts: PoolOptions
  private readonly checkAgent = new http.Agent({ keepAlive: true, maxSockets: 1, timeout: 30_000 })
  private running = false

  constructor (opts: PoolOptions) {
    super()
    this.opts = opts
  }

  get (id: string): Backend | undefined { return this.byId.get(id) }

  /** Total requests in flight across backends (for bounded-load hashing). */
  totalInFlight (): number {
    let n = 0
    for (const b of this.backends) n += b.inFlight
    return n
  }

  add (id: string, url: string): Backend {
    const origin = checkBackendSpec(id, url)
    if (this.byId.has(id)) throw new ConflictError(`backend "${id}" already exists`)
    if (this.backends.some((b) => b.url === origin)) throw new ConflictError(`backend URL ${origin} already in the pool`)
    const b = new Backend(id, origin, this.opts.secret)
    this.backends = [...this.backends, b]
    this.byId.set(id, b)
    this.version++
    this.emit('backend:added', this.event(b, undefined, 'added'))
    if (this.running) this.schedule(b, 0)
    return b
  }

  remove (id: string): Backend {
    const b = this.mustGet(id)
    b.removed = true
    clearTimeout(b.timer)
    this.backends = this.backends.filter((x) => x !== b)
    this.byId.delete(id)
    this.version++
    this.emit('backend:removed', this.event(b, b.state, 'removed'))
    return b
  }

  drain (id: string): Backend { const b = this.mustGet(id); b.adminDrain = true; this.refresh(b, 'operator drain'); return b }
  enable (id: string): Backend { const b = this.mustGet(id); b.adminDrain = false; this.refresh(b, 'operator enable'); return b }

  /** Passive failure seen on the request path. */
  markDown (b: Backend, reason: string): void {
    if (b.removed) return
    if (markDownPassive(b.health)) {
      this.refresh(b, reason)
      if (this.running) this.schedule(b, this.opts.healthFastInterval)
    }
  }

  /**
   * Record an answer status for the passive 5xx rule. A 503 does not count:
   * it is a live instance saying a dependency is away (Redis down: every
   * instance answers 503 ERR_STORE_UNAVAILABLE) or that it drains, which its
   * /healthz already tells. Counting it marked the whole pool down during a
   * Redis outage, and the balancer then refused everyone with its own 503.
   */
  noteStatus (b: Backend, status: number): void {
    if (status === 503) return
    if (status >= 500) {
      if (++b.run5xx >= this.opts.fall5xx) { b.run5xx = 0; this.markDown(b, `${this.opts.fall5xx} consecutive 5xx`) }
    } else if (b.run5xx !== 0) {
      b.run5xx = 0
    }
  }

  applyCheck (b: Backend, result: CheckResult): void {
    if (applyCheck(b.health, result, this.opts)) this.refresh(b, `health check ${result}`)
  }

  /** Start active health checks of every backend (and of backends added later). */
  startHealthChecks (): void {
    if (this.running) return
    this.running = true
    for (const b of this.backends) this.schedule(b, 0)
  }

  stopHealthChecks (): void {
    this.running = false
    for (const b of this.backends) clearTimeout(b.timer)
    this.checkAgent.destroy()
  }

  private schedule (b: Backend, delay: number): void {
    clearTimeout(b.timer)
    b.timer = setTimeout(() => {
      void checkOnce(b.parsed, this.opts.healthPath, this.opts.healthTimeout, this.checkAgent).then((result) => {
        if (!this.running || b.removed) return
        this.applyCheck(b, result)
        this.schedule(b, isTransitioning(b.health) ? this.opts.healthFastInterval : this.opts.healthInterval)
      })
    }, delay)
    b.timer.unref()
  }

  private refresh (b: Backend, reason: string): void {
    const previous = b.state
    const next: BackendState = b.health.health === 'down' ? 'down' : (b.adminDrain || b.health.selfDrain) ? 'draining' : 'up'
    if (next === previous) return
    b.state = next
    this.version++
    this.emit(`backend:${next}`, this.event(b, previous, reason))
  }

  private event (b: Backend, previous: BackendState | undefined, reason: string): BackendEvent {
    return { id: b.id, url: b.url, state: b.state, previous, reason }
  }

  private mustGet (id: string): Backend {
    const b = this.byId.get(id)
    if (b === undefined) throw new NotFoundError(`no backend "${id}"`)
    return b
  }
}
