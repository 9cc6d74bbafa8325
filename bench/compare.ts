/**
 * Run-by-run differences between two reports, matched by `key`, as plain
 * data; `renderComparison` turns it into the aligned text `compare` prints.
 *
 * A difference is **noise** when it is smaller than what repeating the same
 * run already showed: the larger relative min..max spread of that key's
 * repeats in either report. Keys that were never repeated get a default band
 * of ±5%, and the output says so, because one run says nothing about spread.
 */
import type { Report } from './report-schema.js'
import { type RunGroup, type Stat, fmtInt, fmtMs, fmtUs, groupRuns, relativeSpread } from './analysis.js'

/** Relative band used when neither report repeated a key. */
export const DEFAULT_NOISE_BAND = 0.05
/** autocannon reports whole milliseconds, so a p99 that moves by 1 ms may be rounding alone. */
export const LATENCY_PRECISION_MS = 1

export interface MetricChange {
  a: number
  b: number
  /** b − a, in the metric's unit. */
  delta: number
  /** (b − a) / a; null when a is 0. */
  relative: number | null
  /** Relative noise band (0.05 = ±5%). */
  band: number
  bandSource: 'repeats' | 'default'
  verdict: 'noise' | 'better' | 'worse'
}

export interface CompareRow {
  key: string
  repeats: { a: number, b: number }
  reqPerSec: MetricChange
  p99Ms: MetricChange
  cpuTotalUs: MetricChange
  cpuInstancesUs: MetricChange
}

export interface Comparison {
  rows: CompareRow[]
  /** Keys only in b. */
  added: string[]
  /** Keys only in a. */
  removed: string[]
  /** One entry per config (or machine) field whose value differs; values as JSON. */
  differences: Array<{ field: string, a: string, b: string }>
  /** True when at least one row fell back to DEFAULT_NOISE_BAND. */
  defaultBandUsed: boolean
}

function change (a: Stat, b: Stat, higherIsBetter: boolean, minDelta = 0): MetricChange {
  const repeated = a.n >= 2 || b.n >= 2
  const band = repeated ? Math.max(relativeSpread(a), relativeSpread(b)) : DEFAULT_NOISE_BAND
  const delta = b.mean - a.mean
  const relative = a.mean === 0 ? null : delta / Math.abs(a.mean)
  const small = Math.abs(delta) <= minDelta || (relative === null ? delta === 0 : Math.abs(relative) < band)
  const verdict = small ? 'noise' : (delta > 0) === higherIsBetter ? 'better' : 'worse'
  return { a: a.mean, b: b.mean, delta, relative, band, bandSource: repeated ? 'repeats' : 'default', verdict }
}

function configDifferences (a: Report, b: Report): Comparison['differences'] {
  const out: Comparison['differences'] = []
  const fields = [...new Set([...Object.keys(a.config), ...Object.keys(b.config)])]
  for (const f of fields) {
    const va = JSON.stringify((a.config as unknown as Record<string, unknown>)[f])
    const vb = JSON.stringify((b.config as unknown as Record<string, unknown>)[f])
    if (va !== vb) out.push({ field: `config.${f}`, a: va ?? 'absent', b: vb ?? 'absent' })
  }
  // A different machine changes every absolute figure; ratios survive better.
  for (const f of ['cpuModel', 'cores', 'totalMemBytes'] as const) {
    const va = JSON.stringify(a.machine[f])
    const vb = JSON.stringify(b.machine[f])
    if (va !== vb) out.push({ field: `machine.${f}`, a: va, b: vb })
  }
  return out
}

export function compareReports (a: Report, b: Report): Comparison {
  const ga = new Map(groupRuns(a.runs).map((g) => [g.key, g]))
  const gb = groupRuns(b.runs)
  const keysB = new Set(gb.map((g) => g.key))
  const rows: CompareRow[] = []
  for (const y of gb) {
    const x = ga.get(y.key)
    if (x === undefined) continue
    rows.push(compareGroups(x, y))
  }
  const all = rows.flatMap((r) => [r.reqPerSec, r.p99Ms, r.cpuTotalUs, r.cpuInstancesUs])
  return {
    rows,
    added: gb.filter((g) => !ga.has(g.key)).map((g) => g.key),
    removed: [...ga.keys()].filter((k) => !keysB.has(k)),
    differences: configDifferences(a, b),
    defaultBandUsed: all.some((m) => m.bandSource === 'default'),
  }
}

function compareGroups (x: RunGroup, y: RunGroup): CompareRow {
  return {
    key: x.key,
    repeats: { a: x.runs.length, b: y.runs.length },
    reqPerSec: change(x.reqPerSec, y.reqPerSec, true),
    p99Ms: change(x.p99, y.p99, false, LATENCY_PRECISION_MS),
    cpuTotalUs: change(x.cpuUsPerRequest.total, y.cpuUsPerRequest.total, false),
    cpuInstancesUs: change(x.cpuUsPerRequest.instances, y.cpuUsPerRequest.instances, false),
  }
}

/** "+12.3% worse", "−0.8% noise". */
export function describeChange (m: MetricChange): string {
  const pct = m.relative === null ? (m.delta === 0 ? '0%' : 'n/a') : `${m.relative > 0 ? '+' : m.relative < 0 ? '−' : ''}${Math.abs(m.relative * 100).toFixed(1)}%`
  return `${pct} ${m.verdict}`
}

export interface ComparisonLabels { a: string, b: string }

export function renderComparison (c: Comparison, labels: ComparisonLabels = { a: 'A', b: 'B' }): string {
  const out: string[] = [`A: ${labels.a}`, `B: ${labels.b}`]
  for (const d of c.differences) out.push(`warning: ${d.field} differs: A ${d.a}, B ${d.b}`)
  out.push('')
  const headers = ['key', 'runs A/B', 'req/s A', 'req/s B', 'change', 'p99 A', 'p99 B', 'change', 'CPU µs/req A', 'B', 'change', 'instances change', 'req/s noise band']
  const right = new Set([1, 2, 3, 5, 6, 8, 9, 12])
  const rows = c.rows.map((r) => [
    r.key, `${r.repeats.a}/${r.repeats.b}`,
    fmtInt(r.reqPerSec.a), fmtInt(r.reqPerSec.b), describeChange(r.reqPerSec),
    fmtMs(r.p99Ms.a), fmtMs(r.p99Ms.b), describeChange(r.p99Ms),
    fmtUs(r.cpuTotalUs.a), fmtUs(r.cpuTotalUs.b), describeChange(r.cpuTotalUs),
    describeChange(r.cpuInstancesUs),
    `±${(r.reqPerSec.band * 100).toFixed(1)}%${r.reqPerSec.bandSource === 'default' ? ' (default)' : ''}`,
  ])
  if (rows.length === 0) out.push('No key appears in both reports.')
  else {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
    const line = (cells: string[]): string => cells.map((s, i) => (right.has(i) ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))).join('  ').trimEnd()
    out.push(line(headers), ...rows.map(line))
  }
  out.push('')
  out.push('A change is "noise" when it is smaller than the min..max spread of the key\'s repeated runs (the larger of A and B; each metric has its own band, req/s shown)' +
    (c.defaultBandUsed ? `; keys run only once use a default band of ±${DEFAULT_NOISE_BAND * 100}%, which is a guess, not a measurement` : '') +
    `; p99 changes of ${LATENCY_PRECISION_MS} ms or less are noise (whole-millisecond latency).`)
  if (c.removed.length > 0) out.push(`removed (only in A): ${c.removed.join(', ')}`)
  if (c.added.length > 0) out.push(`added (only in B): ${c.added.join(', ')}`)
  return out.join('\n') + '\n'
}
