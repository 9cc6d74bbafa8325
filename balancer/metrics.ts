/**
 * Prometheus metrics on a private prom-client Registry. The hot path only
 * bumps plain counters on Backend objects and observes a cached histogram
 * child; counters and gauges are filled from those at scrape time (collect),
 * so a request costs no label lookups.
 */
import { Counter, Gauge, Registry, type Metric, type MetricValueWithName } from 'prom-client'
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
  // The latency histogram is counted in plain arrays on the request path (prom-client's
  // child.observe() hashes the label set and validates it on every call) and exposed at
  // scrape time as a custom metric in the same text format as a prom-client Histogram.
  const name = 'lb_upstream_latency_seconds'
  const help = 'Time from sending to a backend until its response headers arrive'
  const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
  const children = new Map<Backend, LatencyCounts>()
  registry.registerMetric({
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: () => ({ name, help, type: 'histogram', aggregator: 'sum', values: histogramValues(name, buckets, children) }),
    reset: () => { for (const c of children.values()) c.reset() },
  } as unknown as Metric)
  return {
    registry,
    local,
    latency (b) {
      let c = children.get(b)
      if (c === undefined) { c = new LatencyCounts(b.id, buckets); children.set(b, c) }
      return c
    },
  }
}

/** Bucket counts of one backend's latency (non-cumulative; cumulated at scrape time). */
class LatencyCounts {
  readonly backend: string
  readonly bounds: number[]
  counts: Float64Array
  sum = 0
  count = 0
  constructor (backend: string, bounds: number[]) {
    this.backend = backend
    this.bounds = bounds
    this.counts = new Float64Array(bounds.length)
  }

  observe (seconds: number): void {
    if (!Number.isFinite(seconds)) return
    const bounds = this.bounds
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= bounds[i]!) { this.counts[i]!++; break }
    }
    this.sum += seconds
    this.count++
  }

  reset (): void { this.counts.fill(0); this.sum = 0; this.count = 0 }
}

/** Same series, labels and order as prom-client's Histogram.get(): buckets (cumulative), +Inf, _sum, _count. */
function histogramValues (name: string, bounds: number[], children: Map<Backend, LatencyCounts>): Array<MetricValueWithName<string>> {
  const values: Array<MetricValueWithName<string>> = []
  for (const c of children.values()) {
    let acc = 0
    for (let i = 0; i < bounds.length; i++) {
      acc += c.counts[i]!
      values.push({ labels: { le: bounds[i]!, backend: c.backend }, value: acc, metricName: `${name}_bucket` })
    }
    values.push({ labels: { le: '+Inf', backend: c.backend }, value: c.count, metricName: `${name}_bucket` })
    values.push({ labels: { backend: c.backend }, value: c.sum, metricName: `${name}_sum` })
    values.push({ labels: { backend: c.backend }, value: c.count, metricName: `${name}_count` })
  }
  return values
}
