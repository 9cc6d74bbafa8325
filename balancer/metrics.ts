/**
 * Prometheus metrics on a private prom-client Registry. The hot path only
 * bumps plain counters on Backend objects and observes a cached histogram
 * child; counters and gauges are filled from those at scrape time (collect),
 * so a request costs no label lookups.
 */
import { Counter, Gauge, Histogram, Registry, type LabelValues } from 'prom-client'
import type { Backend, Pool } from './pool.js'

export interface BalancerMetrics {
  registry: Registry
  /** Cached histogram child for a backend (created on first use). */
  latency: (b: Backend) => { observe: (seconds: number) => void }
  /** Requests answered by the balancer itself (no backend), by status. */
  local: Map<number, number>
}

export function createMetrics (pool: Pool, totals: { rebounds: number, retries: number }): BalancerMetrics {
  const registry = new Registry()
  const local = new Map<number, number>()
  new Counter({
    name: 'lb_requests_total',
    help: 'Requests answered, by backend (or "none" when the balancer answered itself) and status code',
    labelNames: ['backend', 'status'],
    registers: [registry],
    collect () {
      this.reset()
      for (const b of pool.backends) for (const [status, n] of b.statusCounts) this.inc({ backend: b.id, status: String(status) }, n)
      for (const [status, n] of local) this.inc({ backend: 'none', status: String(status) }, n)
    },
  })
  new Counter({
    name: 'lb_retries_total',
    help: 'Requests sent again to another backend after a failed attempt, by the backend that failed',
    labelNames: ['backend'],
    registers: [registry],
    collect () { this.reset(); for (const b of pool.backends) this.inc({ backend: b.id }, b.retries) },
  })
  new Counter({
    name: 'lb_upstream_failures_total',
    help: 'Failed attempts (connect, reset, timeout), by backend',
    labelNames: ['backend'],
    registers: [registry],
    collect () { this.reset(); for (const b of pool.backends) this.inc({ backend: b.id }, b.failures) },
  })
  new Counter({
    name: 'lb_affinity_rebounds_total',
    help: 'Requests whose affinity cookie could not be honoured and were re-pinned',
    registers: [registry],
    collect () { this.reset(); this.inc(totals.rebounds) },
  })
  new Gauge({
    name: 'lb_backend_up',
    help: '1 when the backend takes new requests, 0.5 while draining, 0 when down',
    labelNames: ['backend'],
    registers: [registry],
    collect () { this.reset(); for (const b of pool.backends) this.set({ backend: b.id }, b.state === 'up' ? 1 : b.state === 'draining' ? 0.5 : 0) },
  })
  new Gauge({
    name: 'lb_in_flight',
    help: 'Requests in flight, by backend',
    labelNames: ['backend'],
    registers: [registry],
    collect () { this.reset(); for (const b of pool.backends) this.set({ backend: b.id }, b.inFlight) },
  })
  const hist = new Histogram({
    name: 'lb_upstream_latency_seconds',
    help: 'Time from sending to a backend until its response headers arrive',
    labelNames: ['backend'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  const children = new WeakMap<Backend, { observe: (v: number) => void }>()
  return {
    registry,
    local,
    latency (b) {
      let c = children.get(b)
      if (c === undefined) { c = hist.labels({ backend: b.id } as LabelValues<'backend'>); children.set(b, c) }
      return c
    },
  }
}
