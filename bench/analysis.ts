/**
 * Computations over a `Report` shared by every renderer and by `compare`.
 * Everything here is pure and returns plain data; nothing prints. Figures that
 * compare strategies are taken from the same report (same machine, same
 * minute), because on a small shared machine only same-run ratios and CPU per
 * request are stable enough to trust.
 */
import type { ByComponent, Policy, Report, RunResult, Strategy } from './report-schema.js'

export const STRATEGY_ORDER: readonly Strategy[] = ['memory', 'redis', 'token', 'token-revocable']
export const COMPONENTS = ['balancer', 'instances', 'redis', 'load'] as const
export type Component = typeof COMPONENTS[number]

/** Mean and spread of one figure across the repeats of a key. */
export interface Stat { n: number, mean: number, min: number, max: number, stdev: number }

export function stat (values: readonly number[]): Stat {
  const n = values.length
  if (n === 0) return { n: 0, mean: NaN, min: NaN, max: NaN, stdev: NaN }
  const mean = values.reduce((a, v) => a + v, 0) / n
  // Sample standard deviation; 0 for a single run (no spread measured, not "no spread").
  const stdev = n < 2 ? 0 : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1))
  return { n, mean, min: Math.min(...values), max: Math.max(...values), stdev }
}

/** (max − min) / |mean|: the min..max spread relative to the mean; 0 when fewer than 2 runs. */
export function relativeSpread (s: Stat): number {
  if (s.n < 2 || s.mean === 0 || !Number.isFinite(s.mean)) return 0
  return (s.max - s.min) / Math.abs(s.mean)
}

/** Responses whose status is not 2xx (401s of lost sessions included). */
export function non2xx (run: RunResult): number {
  let n = 0
  for (const [status, count] of Object.entries(run.statusCounts)) if (!status.startsWith('2')) n += count
  return n
}

/** All repeats of one key, with mean and spread of each figure. */
export interface RunGroup {
  key: string
  strategy: Strategy
  policy: Policy
  backends: number
  connections: number
  control: boolean
  runs: RunResult[]
  reqPerSec: Stat
  p50: Stat
  p99: Stat
  non2xx: Stat
  errors: Stat
  timeouts: Stat
  relogins: Stat
  requests: Stat
  cpuUsPerRequest: ByComponent<Stat> & { total: Stat }
  peakRssBytes: ByComponent<Stat>
  /** null when no repeat of this key used Redis. */
  redisCommandsPerRequest: Stat | null
  /** Mean count per request of each Redis command, over the repeats that used Redis. */
  redisCommands: Record<string, number>
  memoryPer1000Sessions: { bytes: Stat, source: string } | null
  otherLoad: Stat
  /** Union of the flags of every repeat, in first-seen order. */
  flags: string[]
}

function byComponent (runs: RunResult[], pick: (r: RunResult) => ByComponent<number>): ByComponent<Stat> {
  return {
    balancer: stat(runs.map((r) => pick(r).balancer)),
    instances: stat(runs.map((r) => pick(r).instances)),
    redis: stat(runs.map((r) => pick(r).redis)),
    load: stat(runs.map((r) => pick(r).load)),
  }
}

function makeGroup (runs: RunResult[]): RunGroup {
  const first = runs[0]!
  const withRedis = runs.filter((r) => r.redis !== null)
  const redisCommands: Record<string, number> = {}
  for (const r of withRedis) {
    const total = r.requests.total
    for (const [cmd, count] of Object.entries(r.redis!.commands)) {
      redisCommands[cmd] = (redisCommands[cmd] ?? 0) + (total > 0 ? count / total : 0) / withRedis.length
    }
  }
  const withMem = runs.filter((r) => r.memoryPer1000Sessions !== null)
  return {
    key: first.key,
    strategy: first.strategy,
    policy: first.policy,
    backends: first.backends,
    connections: first.connections,
    control: first.control,
    runs,
    reqPerSec: stat(runs.map((r) => r.requests.perSec)),
    p50: stat(runs.map((r) => r.latencyMs.p50)),
    p99: stat(runs.map((r) => r.latencyMs.p99)),
    non2xx: stat(runs.map(non2xx)),
    errors: stat(runs.map((r) => r.errors)),
    timeouts: stat(runs.map((r) => r.timeouts)),
    relogins: stat(runs.map((r) => r.relogins)),
    requests: stat(runs.map((r) => r.requests.total)),
    cpuUsPerRequest: { ...byComponent(runs, (r) => r.cpuUsPerRequest), total: stat(runs.map((r) => r.cpuUsPerRequest.total)) },
    peakRssBytes: byComponent(runs, (r) => r.peakRssBytes),
    redisCommandsPerRequest: withRedis.length === 0 ? null : stat(withRedis.map((r) => r.redis!.commandsPerRequest)),
    redisCommands,
    memoryPer1000Sessions: withMem.length === 0
      ? null
      : { bytes: stat(withMem.map((r) => r.memoryPer1000Sessions!.bytes)), source: withMem[0]!.memoryPer1000Sessions!.source },
    otherLoad: stat(runs.map((r) => r.otherLoad)),
    flags: [...new Set(runs.flatMap((r) => r.flags))],
  }
}

const POLICY_ORDER: readonly Policy[] = ['sticky', 'round-robin', 'least-conn', 'hash']

/** Orders groups the way every table shows them: backends, connections, strategy, policy, controls last. */
export function compareGroups (a: RunGroup, b: RunGroup): number {
  return a.backends - b.backends ||
    a.connections - b.connections ||
    Number(a.control) - Number(b.control) ||
    STRATEGY_ORDER.indexOf(a.strategy) - STRATEGY_ORDER.indexOf(b.strategy) ||
    POLICY_ORDER.indexOf(a.policy) - POLICY_ORDER.indexOf(b.policy) ||
    a.key.localeCompare(b.key)
}

/** Groups runs by `key` (repeats together), in table order. */
export function groupRuns (runs: readonly RunResult[]): RunGroup[] {
  const byKey = new Map<string, RunResult[]>()
  for (const r of runs) {
    const list = byKey.get(r.key)
    if (list === undefined) byKey.set(r.key, [r])
    else list.push(r)
  }
  return [...byKey.values()].map((rs) => makeGroup(rs.sort((x, y) => x.repeat - y.repeat))).sort(compareGroups)
}

/** A traffic level: one backend count and one connection count. */
export interface Level { backends: number, connections: number }

export function levelsOf (groups: readonly RunGroup[]): Level[] {
  const seen = new Map<string, Level>()
  for (const g of groups) seen.set(`${g.backends}/${g.connections}`, { backends: g.backends, connections: g.connections })
  return [...seen.values()].sort((a, b) => a.backends - b.backends || a.connections - b.connections)
}

/**
 * The run that stands for `strategy` at a level: not a control, sticky policy
 * preferred (the setup this project measures), else the first in table order.
 */
export function primaryGroup (groups: readonly RunGroup[], strategy: Strategy, level: Level): RunGroup | undefined {
  const candidates = groups.filter((g) => !g.control && g.strategy === strategy &&
    g.backends === level.backends && g.connections === level.connections)
  return candidates.find((g) => g.policy === 'sticky') ?? candidates[0]
}

export interface Winner {
  level: Level
  winner: RunGroup
  runnerUp: RunGroup | null
  /** How much more req/s the winner served than the runner-up, percent of the runner-up's. */
  marginPct: number | null
  /** True when the min..max ranges of winner and runner-up overlap: too close to call. */
  withinSpread: boolean
}

/** Per traffic level, the non-control run with the highest mean req/s. */
export function winnersByLevel (groups: readonly RunGroup[]): Winner[] {
  const out: Winner[] = []
  for (const level of levelsOf(groups)) {
    const contenders = groups
      .filter((g) => !g.control && g.backends === level.backends && g.connections === level.connections)
      .sort((a, b) => b.reqPerSec.mean - a.reqPerSec.mean)
    const [winner, runnerUp] = contenders
    if (winner === undefined) continue
    out.push({
      level,
      winner,
      runnerUp: runnerUp ?? null,
      marginPct: runnerUp === undefined ? null : (winner.reqPerSec.mean / runnerUp.reqPerSec.mean - 1) * 100,
      withinSpread: runnerUp !== undefined && runnerUp.reqPerSec.max >= winner.reqPerSec.min,
    })
  }
  return out
}

/** Same-run comparisons at one level; a field is null when a strategy it needs was not measured. */
export interface LevelRatios {
  level: Level
  /** redis req/s ÷ memory req/s. */
  redisOverMemoryReqPerSec: number | null
  /** token instance CPU µs/request − memory instance CPU µs/request. */
  tokenMinusMemoryInstanceCpuUs: number | null
  /** The price of revocation: token-revocable − token, CPU µs per request. */
  revocationCpuUs: { total: number, instances: number, redis: number } | null
  /** Mean Redis commands per request of each strategy that used Redis. */
  redisCommandsPerRequest: Partial<Record<Strategy, number>>
}

export function ratiosByLevel (groups: readonly RunGroup[]): LevelRatios[] {
  return levelsOf(groups).map((level) => {
    const g = (s: Strategy): RunGroup | undefined => primaryGroup(groups, s, level)
    const memory = g('memory')
    const redis = g('redis')
    const token = g('token')
    const revocable = g('token-revocable')
    const redisCommandsPerRequest: Partial<Record<Strategy, number>> = {}
    for (const s of STRATEGY_ORDER) {
      const c = g(s)?.redisCommandsPerRequest
      if (c != null) redisCommandsPerRequest[s] = c.mean
    }
    return {
      level,
      redisOverMemoryReqPerSec: memory && redis ? redis.reqPerSec.mean / memory.reqPerSec.mean : null,
      tokenMinusMemoryInstanceCpuUs: memory && token
        ? token.cpuUsPerRequest.instances.mean - memory.cpuUsPerRequest.instances.mean
        : null,
      revocationCpuUs: token && revocable
        ? {
            total: revocable.cpuUsPerRequest.total.mean - token.cpuUsPerRequest.total.mean,
            instances: revocable.cpuUsPerRequest.instances.mean - token.cpuUsPerRequest.instances.mean,
            redis: revocable.cpuUsPerRequest.redis.mean - token.cpuUsPerRequest.redis.mean,
          }
        : null,
      redisCommandsPerRequest,
    }
  })
}

/** Share (0..1) of the total CPU per request taken by each component. */
export function cpuShares (g: RunGroup): ByComponent<number> {
  const c = g.cpuUsPerRequest
  const sum = c.balancer.mean + c.instances.mean + c.redis.mean + c.load.mean
  const share = (v: number): number => (sum > 0 ? v / sum : 0)
  return { balancer: share(c.balancer.mean), instances: share(c.instances.mean), redis: share(c.redis.mean), load: share(c.load.mean) }
}

/** The connection count nearest to `wanted` among those measured (ties go to the higher one). */
export function nearestConnections (groups: readonly RunGroup[], wanted: number): number | undefined {
  const counts = [...new Set(groups.map((g) => g.connections))].sort((a, b) => b - a)
  let best: number | undefined
  for (const c of counts) if (best === undefined || Math.abs(c - wanted) < Math.abs(best - wanted)) best = c
  return best
}

export const TARGET_CONNECTIONS = 100

/** One target line. `pass` is null for figures that are reported, not judged, or could not be measured. */
export interface TargetCheck {
  id: 'redis-throughput' | 'token-instance-cpu' | 'revocation-price'
  name: string
  level: Level | null
  /** True when the level is not exactly TARGET_CONNECTIONS connections. */
  nearest: boolean
  value: number | null
  unit: '×' | 'µs'
  target: string
  pass: boolean | null
  note: string
}

/**
 * The targets, checked at 100 connections or the nearest measured
 * level (`nearest` says when that happened), once per backend count.
 */
export function checkTargets (groups: readonly RunGroup[]): TargetCheck[] {
  const out: TargetCheck[] = []
  const backendCounts = [...new Set(groups.map((g) => g.backends))].sort((a, b) => a - b)
  for (const backends of backendCounts) {
    const atB = groups.filter((g) => g.backends === backends && !g.control)
    const connections = nearestConnections(atB, TARGET_CONNECTIONS)
    if (connections === undefined) continue
    const level = { backends, connections }
    const nearest = connections !== TARGET_CONNECTIONS
    const where = `${backends} backend${backends === 1 ? '' : 's'}, ${connections} connections` +
      (nearest ? ` (nearest measured level to ${TARGET_CONNECTIONS})` : '')
    const memory = primaryGroup(atB, 'memory', level)
    const redis = primaryGroup(atB, 'redis', level)
    const token = primaryGroup(atB, 'token', level)
    const revocable = primaryGroup(atB, 'token-revocable', level)
    const base = { level, nearest }

    const ratio = memory && redis ? redis.reqPerSec.mean / memory.reqPerSec.mean : null
    out.push({
      ...base,
      id: 'redis-throughput',
      name: 'redis req/s vs memory req/s',
      value: ratio,
      unit: '×',
      target: '≥ 0.90×',
      pass: ratio === null ? null : ratio >= 0.9,
      note: memory && redis
        ? `${where}: redis ${fmtInt(redis.reqPerSec.mean)} vs memory ${fmtInt(memory.reqPerSec.mean)} req/s`
        : `${where}: not measured (needs memory and redis)`,
    })

    const delta = memory && token ? token.cpuUsPerRequest.instances.mean - memory.cpuUsPerRequest.instances.mean : null
    out.push({
      ...base,
      id: 'token-instance-cpu',
      name: 'token instance CPU/request − memory\'s',
      value: delta,
      unit: 'µs',
      target: '≤ +15 µs',
      pass: delta === null ? null : delta <= 15,
      note: memory && token
        ? `${where}: token ${fmtUs(token.cpuUsPerRequest.instances.mean)} vs memory ${fmtUs(memory.cpuUsPerRequest.instances.mean)} µs instance CPU/request`
        : `${where}: not measured (needs memory and token)`,
    })

    const price = token && revocable ? revocable.cpuUsPerRequest.total.mean - token.cpuUsPerRequest.total.mean : null
    out.push({
      ...base,
      id: 'revocation-price',
      name: 'price of revocation: token-revocable − token, CPU/request total',
      value: price,
      unit: 'µs',
      target: 'reported',
      pass: null,
      note: token && revocable
        ? `${where}: instances ${signed(revocable.cpuUsPerRequest.instances.mean - token.cpuUsPerRequest.instances.mean)} µs, ` +
          `redis ${signed(revocable.cpuUsPerRequest.redis.mean - token.cpuUsPerRequest.redis.mean)} µs, ` +
          `${(revocable.redisCommandsPerRequest?.mean ?? 0).toFixed(2)} Redis commands/request`
        : `${where}: not measured (needs token and token-revocable)`,
    })
  }
  return out
}

/** What a run flag means, for the "Flags" sections. */
export const FLAG_EXPLANATIONS: Record<string, string> = {
  'load-generator-above-balancer': 'the load generator used more CPU than the balancer: the machine may have measured the load generator, not the system',
  'machine-busy': 'other processes used a noticeable share of the CPU during the run: absolute figures are less reliable',
  errors: 'the load generator saw connection errors or timeouts',
}

export function explainFlag (flag: string): string {
  return FLAG_EXPLANATIONS[flag] ?? 'flag set by the bench runner (no explanation known to this renderer)'
}

// Number formats shared by the renderers, so a figure reads the same everywhere.

/** 12,345 (en-US grouping whatever the machine's locale). */
export function fmtInt (n: number): string {
  if (!Number.isFinite(n)) return '–'
  return Math.round(n).toLocaleString('en-US')
}

/** Microseconds: one decimal below 100, whole above. */
export function fmtUs (n: number): string {
  if (!Number.isFinite(n)) return '–'
  return Math.abs(n) < 100 ? n.toFixed(1) : fmtInt(n)
}

/** Milliseconds as measured (whole ms stay whole). */
export function fmtMs (n: number): string {
  if (!Number.isFinite(n)) return '–'
  return Number.isInteger(n) ? String(n) : n.toFixed(1)
}

export function fmtPct (share: number, digits = 0): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(digits)}%` : '–'
}

export function fmtBytes (n: number): string {
  if (!Number.isFinite(n)) return '–'
  if (Math.abs(n) >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`
  if (Math.abs(n) >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  if (Math.abs(n) >= 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${Math.round(n)} B`
}

/** "+4.2" / "−3.0": explicit sign for differences. */
export function signed (n: number, format: (n: number) => string = fmtUs): string {
  if (!Number.isFinite(n)) return '–'
  return n > 0 ? `+${format(n)}` : n < 0 ? `−${format(-n)}` : format(0)
}

/** "9,120", or "9,120 ±3%" when the key was repeated: ± half the min..max range, relative to the mean. */
export function withSpread (s: Stat, format: (n: number) => string = fmtInt): string {
  if (s.n < 2) return format(s.mean)
  return `${format(s.mean)} ±${(relativeSpread(s) * 50).toFixed(0)}%`
}

/** "memory/sticky" or "memory/round-robin (control)". */
export function groupLabel (g: RunGroup): string {
  return `${g.strategy}/${g.policy}${g.control ? ' (control)' : ''}`
}
