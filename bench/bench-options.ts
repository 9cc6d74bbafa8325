import type { Policy, Report, RunResult, Strategy } from './report-schema.js'

export const STRATEGIES: readonly Strategy[] = ['memory', 'redis', 'token', 'token-revocable']
export const POLICIES: readonly Policy[] = ['sticky', 'round-robin', 'least-conn', 'hash']

/** The matrix a report records as its config: the same fields, documented once in report-schema.ts. */
export type MatrixConfig = Pick<Report['config'], 'strategies' | 'backends' | 'connections' | 'durationSec' | 'warmupSec' | 'policy' | 'controls' | 'repeat' | 'writeRatio'>

/** Everything a benchmark run needs; bench-main.ts builds it from flags over these defaults. */
export interface BenchOptions extends MatrixConfig {
  /** scrypt N the bench seeds its users DB with (a low cost: logins are not what we measure). */
  scryptN: number
  /** Use this Redis instead of starting a private one (never flushed). */
  redisUrl: string | undefined
  /** Folder for the users DB (seeded once per cost and reused). */
  dataDir: string
  /** Folder the reports go under (reports/<timestamp>/). */
  reportsDir: string
  /** Per-request timeout of the load generator, seconds. */
  timeoutSec: number
}

export const BENCH_DEFAULTS: BenchOptions = {
  strategies: [...STRATEGIES],
  backends: [2],
  connections: [10, 50, 100, 200],
  durationSec: 5,
  warmupSec: 1.5,
  policy: 'auto',
  controls: true,
  repeat: 1,
  writeRatio: 0.05,
  scryptN: 1024,
  redisUrl: undefined,
  dataDir: '.data',
  reportsDir: 'reports',
  timeoutSec: 10,
}

/** One planned run of the matrix: the fields a RunResult repeats to say what it measured. */
export type PlannedRun = Pick<RunResult, 'strategy' | 'policy' | 'backends' | 'connections' | 'repeat' | 'control'>

export function policyFor (strategy: Strategy, policy: BenchOptions['policy']): Policy {
  if (policy !== 'auto') return policy
  return strategy === 'memory' ? 'sticky' : 'round-robin'
}

/**
 * The runs, in the order they run: for each repeat and backend count, each
 * traffic level visits every strategy in turn (their clusters stay up for the
 * whole block), so strategies compared at one level are measured seconds apart.
 */
export function planRuns (o: BenchOptions): PlannedRun[] {
  const plan: PlannedRun[] = []
  for (let repeat = 0; repeat < o.repeat; repeat++) {
    for (const backends of o.backends) {
      const groups: Array<{ strategy: Strategy, policy: Policy, control: boolean }> = o.strategies.map((strategy) => ({ strategy, policy: policyFor(strategy, o.policy), control: false }))
      if (o.controls && o.strategies.includes('memory') && !groups.some((g) => g.strategy === 'memory' && g.policy === 'round-robin')) {
        groups.push({ strategy: 'memory', policy: 'round-robin', control: true })
      }
      for (const connections of o.connections) {
        for (const g of groups) plan.push({ ...g, backends, connections, repeat })
      }
    }
  }
  return plan
}

/** Seconds a plan should take: runs plus one cluster start per group (about 3 s here). */
export function estimateSeconds (plan: PlannedRun[], o: BenchOptions): number {
  const clusters = new Set(plan.map((r) => `${r.repeat}/${r.backends}/${r.strategy}/${r.policy}`)).size
  return plan.length * (o.durationSec + o.warmupSec + 1) + clusters * 3 + 5
}

export function runKey (r: Pick<PlannedRun, 'strategy' | 'policy' | 'backends' | 'connections'>): string {
  return `${r.strategy}/${r.policy}/b${r.backends}/c${r.connections}`
}
