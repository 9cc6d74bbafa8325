import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { seedUsersDb } from '../servers/users-db.js'
import { runKey, type BenchOptions, type PlannedRun } from './bench-options.js'
import { startCluster, type Cluster } from './cluster.js'
import { startLoad, type LoadProcess } from './load.js'
import type { LoadResult } from './load-plan.js'
import { machineFacts, versionsOf } from './machine.js'
import { memoryStoreBytesPer1000 } from './session-memory.js'
import { sampleMachine, sampleProcess, type MachineSample } from './proc-stat.js'
import { startRedisServer, type RedisServer } from './redis-server.js'
import { commandDelta, RedisStatsReader, type RedisStats } from './redis-stats.js'
import { SCHEMA_VERSION, type ByComponent, type Report, type RunResult, type Strategy } from './report-schema.js'

export interface BenchHooks {
  onRunStart?: (run: PlannedRun, index: number, total: number) => void
  onRunDone?: (result: RunResult, index: number, total: number) => void
  /** Free-text progress: seeding, starting a cluster… */
  onInfo?: (message: string) => void
  /** Aborting stops the current run and cleans everything up; runBench then rejects. */
  signal?: AbortSignal
}

const usesRedis = (s: Strategy): boolean => s === 'redis' || s === 'token-revocable'

interface CpuSnapshot { balancer: number, instances: number, redis: number, load: number }

function cpuOf (pid: number | undefined): number {
  return pid === undefined ? 0 : (sampleProcess(pid)?.cpuUs ?? 0)
}

/** The project's own resources for a bench: Redis and the users DB. */
interface BenchEnv {
  redisUrl: string | undefined
  redis: RedisServer | undefined
  stats: RedisStatsReader | undefined
  usersDb: string
  secret: string
  /** Heap per 1,000 memory-store sessions, measured once per bench. */
  memoryStoreBytesPer1000: number | undefined
}

/** Run the whole matrix and return the report data (nothing printed here). */
export async function runBench (o: BenchOptions, plan: PlannedRun[], hooks: BenchHooks = {}): Promise<Report> {
  const createdAt = new Date().toISOString()
  const machine = machineFacts()
  const needRedis = plan.some((r) => usesRedis(r.strategy))
  const cleanups: Array<() => Promise<void>> = []
  const current: Running = { clusters: new Map(), load: undefined }
  const abort = (): void => { current.load?.kill() }
  hooks.signal?.addEventListener('abort', abort)

  try {
    // Users: each run's users are fresh, so the DB must hold every user a cluster will use.
    const usersNeeded = Math.max(1000, maxUsersPerCluster(plan))
    mkdirSync(o.dataDir, { recursive: true })
    const usersDb = resolve(join(o.dataDir, `bench-users-n${o.scryptN}.db`))
    hooks.onInfo?.(`seeding ${usersNeeded} users (scrypt N=${o.scryptN}) in ${usersDb}`)
    const seeded = await seedUsersDb({ path: usersDb, users: usersNeeded, scryptN: o.scryptN })

    const env: BenchEnv = { redisUrl: o.redisUrl, redis: undefined, stats: undefined, usersDb, secret: randomBytes(24).toString('base64url'), memoryStoreBytesPer1000: undefined }
    if (needRedis && env.redisUrl === undefined) {
      hooks.onInfo?.('starting a private redis-server')
      env.redis = await startRedisServer()
      cleanups.push(() => env.redis!.close())
      env.redisUrl = env.redis.url
    }
    if (env.redisUrl !== undefined) {
      env.stats = new RedisStatsReader(env.redisUrl)
      cleanups.push(() => env.stats!.close())
    }
    if (plan.some((r) => r.strategy === 'memory')) env.memoryStoreBytesPer1000 = await memoryStoreBytesPer1000()
    const versions = versionsOf()
    if (env.stats !== undefined) versions['redis-server'] = await env.stats.version()

    const runs: RunResult[] = []
    // One cluster per (strategy, policy) stays up for a whole (repeat, backends)
    // block, and the plan visits them in turn at each traffic level: a slow
    // minute on a shared machine then touches every strategy alike instead of
    // skewing one of them.
    let blockKey = ''
    for (let i = 0; i < plan.length; i++) {
      if (hooks.signal?.aborted === true) throw new Error('aborted')
      const run = plan[i]!
      const block = `${run.repeat}/${run.backends}`
      if (block !== blockKey) {
        await closeClusters(current)
        // A private Redis starts each block empty, so memory figures are its own.
        if (env.redis !== undefined) await env.stats?.flush()
        blockKey = block
      }
      const group = groupKey(run)
      let slot = current.clusters.get(group)
      if (slot === undefined) {
        hooks.onInfo?.(`starting ${run.backends} × ${run.strategy} instances behind the balancer (${run.policy})`)
        const cluster = await startCluster({
          strategy: run.strategy, backends: run.backends, policy: run.policy,
          redisUrl: usesRedis(run.strategy) ? env.redisUrl : undefined, usersDb, secret: env.secret,
        })
        slot = { cluster, userOffset: 0 }
        current.clusters.set(group, slot)
      }
      hooks.onRunStart?.(run, i, plan.length)
      const result = await measureRun(o, run, slot.cluster, env, slot.userOffset, (load) => { current.load = load })
      current.load = undefined
      slot.userOffset += run.connections
      runs.push(result)
      hooks.onRunDone?.(result, i, plan.length)
    }
    await closeClusters(current)

    return {
      schemaVersion: SCHEMA_VERSION,
      createdAt,
      machine,
      versions,
      config: {
        strategies: o.strategies,
        backends: o.backends,
        connections: o.connections,
        durationSec: o.durationSec,
        warmupSec: o.warmupSec,
        policy: o.policy,
        controls: o.controls,
        repeat: o.repeat,
        writeRatio: o.writeRatio,
        scrypt: seeded.scrypt,
        users: seeded.users,
        latencyPrecision: 'sub-millisecond: each response timed by autocannon (process.hrtime); percentiles computed from every sample in the load process (autocannon\'s own histogram keeps whole milliseconds)',
      },
      runs,
      notes: env.redis === undefined && env.redisUrl !== undefined ? [`Redis at ${env.redisUrl} (REDIS_URL) was used as is: not flushed between clusters; its CPU is counted only if it runs on this machine.`] : [],
    }
  } finally {
    hooks.signal?.removeEventListener('abort', abort)
    current.load?.kill()
    await closeClusters(current)
    for (const c of cleanups.reverse()) await c().catch(() => {})
  }
}

interface Running {
  clusters: Map<string, { cluster: Cluster, userOffset: number }>
  load: LoadProcess | undefined
}

async function closeClusters (r: Running): Promise<void> {
  const all = [...r.clusters.values()]
  r.clusters.clear()
  await Promise.all(all.map((s) => s.cluster.close()))
}

/** Runs sharing a cluster: same repeat, backends, strategy and policy. */
function groupKey (r: PlannedRun): string {
  return `${r.repeat}/${r.backends}/${r.strategy}/${r.policy}`
}

function maxUsersPerCluster (plan: PlannedRun[]): number {
  const sums = new Map<string, number>()
  for (const r of plan) {
    const k = groupKey(r)
    sums.set(k, (sums.get(k) ?? 0) + r.connections)
  }
  return Math.max(0, ...sums.values())
}

async function measureRun (o: BenchOptions, run: PlannedRun, cluster: Cluster, env: BenchEnv, userOffset: number, started: (l: LoadProcess) => void): Promise<RunResult> {
  const redisInUse = usesRedis(run.strategy) && env.stats !== undefined
  const readRedis = async (): Promise<RedisStats | undefined> => redisInUse ? await env.stats!.read() : undefined
  const instancesRss = (): number => cluster.pids().instances.reduce((sum, pid) => sum + (sampleProcess(pid)?.rssBytes ?? 0), 0)

  const redisBeforeWarm = await readRedis()
  let redisStart: RedisStats | undefined
  let memoryPer1000: RunResult['memoryPer1000Sessions'] = null
  let cpu0: CpuSnapshot | undefined
  let cpu1: CpuSnapshot | undefined
  let machine0: MachineSample | undefined
  let machine1: MachineSample | undefined
  const peak: ByComponent<number> = { balancer: 0, instances: 0, redis: 0, load: 0 }
  let sampler: NodeJS.Timeout | undefined
  let loadPid = 0
  const redisPid = (): number | undefined => redisInUse ? (redisStart?.pid ?? env.redis?.pid) : undefined
  const snapshot = (): CpuSnapshot => {
    const p = cluster.pids()
    return { balancer: cpuOf(p.balancer), instances: p.instances.reduce((s, pid) => s + cpuOf(pid), 0), redis: cpuOf(redisPid()), load: cpuOf(loadPid) }
  }
  const samplePeaks = (): void => {
    const p = cluster.pids()
    peak.balancer = Math.max(peak.balancer, sampleProcess(p.balancer)?.rssBytes ?? 0)
    peak.instances = Math.max(peak.instances, instancesRss())
    const rp = redisPid()
    if (rp !== undefined) peak.redis = Math.max(peak.redis, sampleProcess(rp)?.rssBytes ?? 0)
    peak.load = Math.max(peak.load, sampleProcess(loadPid)?.rssBytes ?? 0)
  }

  const load = startLoad({
    url: cluster.url,
    auth: run.strategy.startsWith('token') ? 'token' : 'cookie',
    connections: run.connections,
    userOffset,
    warmupSec: o.warmupSec,
    durationSec: o.durationSec,
    writeRatio: o.writeRatio,
    timeoutSec: o.timeoutSec,
    tickMs: 0,
    verifyPreferences: false,
  }, {
    onWarm: async (warm: LoadResult) => {
      // Memory held per session: what the warm-up logins added, scaled to 1,000 users.
      const users = Math.max(1, warm.usersLoggedIn)
      redisStart = await readRedis()
      // Below ~100 sessions Redis's allocator moves more than the sessions weigh.
      if (run.strategy === 'redis' && redisBeforeWarm !== undefined && redisStart !== undefined && warm.usersLoggedIn >= 100) {
        memoryPer1000 = { bytes: Math.round(((redisStart.usedMemory - redisBeforeWarm.usedMemory) / users) * 1000), source: 'redis used_memory' }
      } else if (run.strategy === 'memory' && env.memoryStoreBytesPer1000 !== undefined) {
        memoryPer1000 = { bytes: env.memoryStoreBytesPer1000, source: 'memory store heap' }
      }
      machine0 = sampleMachine()
      cpu0 = snapshot()
      sampler = setInterval(samplePeaks, 250)
    },
    onDone: () => {
      cpu1 = snapshot()
      machine1 = sampleMachine()
      samplePeaks()
    },
  })
  loadPid = load.pid
  started(load)
  let result: LoadResult
  try {
    result = await load.result
  } finally {
    if (sampler !== undefined) clearInterval(sampler)
  }
  const redisEnd = await readRedis()

  const c0 = cpu0 ?? { balancer: 0, instances: 0, redis: 0, load: 0 }
  const c1 = cpu1 ?? c0
  const cpuUs: ByComponent<number> = {
    balancer: c1.balancer - c0.balancer,
    instances: c1.instances - c0.instances,
    redis: c1.redis - c0.redis,
    load: c1.load - c0.load,
  }
  const n = Math.max(1, result.responses)
  const per = (v: number): number => Math.round((v / n) * 10) / 10
  const oursUs = cpuUs.balancer + cpuUs.instances + cpuUs.redis + cpuUs.load
  let otherLoad = 0
  if (machine0 !== undefined && machine1 !== undefined) {
    const totalUs = (machine1.total - machine0.total) * 10_000
    const busyUs = totalUs - (machine1.idle - machine0.idle) * 10_000
    otherLoad = totalUs > 0 ? Math.max(0, Math.min(1, (busyUs - oursUs) / totalUs)) : 0
  }
  let redis: RunResult['redis'] = null
  if (redisStart !== undefined && redisEnd !== undefined) {
    const commands = commandDelta(redisStart.commands, redisEnd.commands)
    const total = Object.values(commands).reduce((a, b) => a + b, 0)
    redis = { commandsPerRequest: Math.round((total / n) * 100) / 100, commands }
  }
  const flags: string[] = []
  if (cpuUs.load > cpuUs.balancer) flags.push('load-generator-above-balancer')
  if (otherLoad > 0.1) flags.push('machine-busy')
  const fivexx = Object.entries(result.status).filter(([s]) => s.startsWith('5')).reduce((a, [, c]) => a + c, 0)
  if (result.errors + result.timeouts + fivexx > 0) flags.push('errors')
  if (!run.control && result.relogins > 0) flags.push('sessions-lost')

  return {
    key: runKey(run),
    strategy: run.strategy,
    policy: run.policy,
    backends: run.backends,
    connections: run.connections,
    repeat: run.repeat,
    control: run.control,
    durationSec: Math.round(result.durationSec * 1000) / 1000,
    requests: { total: result.responses, ok: result.ok, perSec: Math.round(result.responses / Math.max(0.001, result.durationSec)), logins: result.logins },
    latencyMs: result.latencyMs,
    requestsByInstance: result.byInstance,
    statusCounts: result.status,
    errors: result.errors,
    timeouts: result.timeouts,
    relogins: result.relogins,
    cpuUsPerRequest: { balancer: per(cpuUs.balancer), instances: per(cpuUs.instances), redis: per(cpuUs.redis), load: per(cpuUs.load), total: per(oursUs) },
    cpuUs,
    peakRssBytes: peak,
    redis,
    memoryPer1000Sessions: memoryPer1000,
    otherLoad: Math.round(otherLoad * 1000) / 1000,
    flags,
  }
}
