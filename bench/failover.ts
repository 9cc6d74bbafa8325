import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { seedUsersDb } from '../servers/users-db.js'
import { startCluster, type Cluster } from './cluster.js'
import { startLoad, type LoadProcess } from './load.js'
import { emptyCounters, type LoadCounters, type LoadResult } from './load-plan.js'
import { startRedisServer, type RedisServer } from './redis-server.js'
import type { Policy, Strategy } from './report-schema.js'

export type Scenario = 'kill' | 'drain' | 'redis-restart' | 'balancer-restart'
export const SCENARIOS: readonly Scenario[] = ['kill', 'drain', 'redis-restart', 'balancer-restart']

export interface FailoverOptions {
  strategy: Strategy
  scenario: Scenario
  backends: number
  connections: number
  /** Measured seconds (the fault happens inside this window). */
  durationSec: number
  /** Seconds into the measured phase when the fault happens. */
  atSec: number
  /** Seconds into the measured phase when the killed/stopped component starts again. */
  restartAtSec: number
  /** redis-restart: keep an append-only file so Redis comes back with its data. */
  redisPersist: boolean
  policy: Policy
  /** Balancer active health-check interval, ms. */
  healthIntervalMs: number
  /** Instance drain window after SIGTERM, ms. */
  drainMs: number
  writeRatio: number
  scryptN: number
  dataDir: string
  /** Live-view refresh, ms. */
  tickMs: number
}

export const FAILOVER_DEFAULTS: Omit<FailoverOptions, 'strategy' | 'scenario'> = {
  backends: 3,
  connections: 100,
  durationSec: 20,
  atSec: 5,
  restartAtSec: 12,
  redisPersist: false,
  policy: 'sticky',
  healthIntervalMs: 500,
  drainMs: 3000,
  writeRatio: 0.05,
  scryptN: 1024,
  dataDir: '.data',
  tickMs: 250,
}

export type BackendState = 'up' | 'down' | 'draining' | 'unknown'

/** One moment of the run, for the live view. */
export interface FailoverFrame {
  elapsedSec: number
  counters: LoadCounters
  /** Requests per second over the last tick, by instance id. */
  rateByInstance: Record<string, number>
  rate: number
  pinnedByInstance: Record<string, number>
  states: Record<string, BackendState>
  latencyP99Ms: number
}

export interface FailoverEvent {
  atSec: number
  text: string
}

export interface FailoverSummary {
  strategy: Strategy
  scenario: Scenario
  policy: Policy
  backends: number
  connections: number
  durationSec: number
  /** What the fault hit: an instance id, 'redis' or 'balancer'. */
  target: string
  faultAtSec: number
  restartAtSec: number
  redisPersist: boolean
  /** Users pinned to the target instance when the fault happened (kill, drain). */
  usersPinnedToTarget: number
  /** Users forced to log in again: their session was lost. */
  sessionsLost: number
  /** Re-logins in all (a user may lose its session more than once). */
  relogins: number
  /** Users served by a different instance than before at least once. */
  usersMoved: number
  /** Users who saw a language other than the one they had set. */
  preferencesLost: number
  requests: number
  failed: { fivexx: number, connectionErrors: number, timeouts: number, total: number }
  /** GET /api/me answered 5xx (connection errors and timeouts are counted apart). */
  failedGets: number
  /** 503 answers seen while Redis was down (redis-restart). */
  unavailable503: number
  /** Requests the balancer retried on another backend, and users it re-pinned (rebounds). */
  balancer: { retries: number, rebounds: number }
  /** Seconds from the fault until the balancer saw it (state change); null when it never did. */
  detectionSec: number | null
  /** Seconds from the fault until the last user-visible failure or lost session (0: none). */
  recoverySec: number
  /** Worst latency of any 250 ms window's p99 after the fault, ms. */
  worstP99Ms: number
  latencyMs: LoadResult['latencyMs']
  events: FailoverEvent[]
  verdict: string
}

export interface FailoverHooks {
  onInfo?: (text: string) => void
  onEvent?: (event: FailoverEvent) => void
  onFrame?: (frame: FailoverFrame) => void
  signal?: AbortSignal
}

const usesRedis = (s: Strategy): boolean => s === 'redis' || s === 'token-revocable'

interface StatusBody {
  backends: Array<{ id: string, state: string }>
  totals: { retries: number, rebounds: number }
}

async function fetchStatus (adminUrl: string): Promise<StatusBody | undefined> {
  try {
    const res = await fetch(`${adminUrl}/_lb/status`, { signal: AbortSignal.timeout(1000) })
    if (!res.ok) return undefined
    return await res.json() as StatusBody
  } catch {
    return undefined
  }
}

/** Check that a scenario makes sense before starting anything; message names the flag. */
export function checkFailoverOptions (o: FailoverOptions): string | undefined {
  if (o.scenario === 'redis-restart' && !usesRedis(o.strategy)) return `--scenario redis-restart needs a strategy that uses Redis (redis, token-revocable), not ${o.strategy}`
  if ((o.scenario === 'kill' || o.scenario === 'drain') && o.backends < 2) return `--backends must be >= 2 for --scenario ${o.scenario}: someone has to take over`
  if (o.atSec <= 0 || o.atSec >= o.durationSec) return `--at must be inside the run (0 < at < --duration ${o.durationSec})`
  if (o.restartAtSec <= o.atSec) return '--restart-at must come after --at'
  return undefined
}

/**
 * Run one failover scenario for one strategy: start Redis, the cluster and the
 * load, hit the target at `atSec`, bring it back at `restartAtSec`, and count
 * exactly what users lost. Everything started here is stopped before returning.
 */
export async function runFailover (o: FailoverOptions, hooks: FailoverHooks = {}): Promise<FailoverSummary> {
  const problem = checkFailoverOptions(o)
  if (problem !== undefined) throw new Error(problem)
  const events: FailoverEvent[] = []
  let t0 = 0
  const now = (): number => t0 === 0 ? 0 : (Date.now() - t0) / 1000
  const event = (text: string): void => {
    const e = { atSec: Math.round(now() * 100) / 100, text }
    events.push(e)
    hooks.onEvent?.(e)
  }

  let redis: RedisServer | undefined
  let cluster: Cluster | undefined
  let load: LoadProcess | undefined
  const timers: NodeJS.Timeout[] = []
  // Faults and restarts run beside the load; the summary waits for them.
  const actions: Array<Promise<void>> = []
  let poller: NodeJS.Timeout | undefined
  const abort = (): void => { load?.kill() }
  hooks.signal?.addEventListener('abort', abort)
  try {
    mkdirSync(o.dataDir, { recursive: true })
    const usersDb = resolve(join(o.dataDir, `bench-users-n${o.scryptN}.db`))
    await seedUsersDb({ path: usersDb, users: Math.max(1000, o.connections), scryptN: o.scryptN })
    if (usesRedis(o.strategy)) {
      hooks.onInfo?.(`starting a private redis-server${o.redisPersist ? ' (append-only file)' : ''}`)
      redis = await startRedisServer({ persist: o.redisPersist })
    }
    hooks.onInfo?.(`starting ${o.backends} × ${o.strategy} instances behind the balancer (${o.policy})`)
    cluster = await startCluster({
      strategy: o.strategy, backends: o.backends, policy: o.policy, redisUrl: redis?.url, usersDb,
      secret: randomBytes(24).toString('base64url'),
      instanceArgs: ['--drain-ms', String(o.drainMs)],
      balancerArgs: ['--health-interval', String(o.healthIntervalMs)],
    })
    const c = cluster
    // The target instance: the last one (s3 of 3), so s1 keeps its users in every view.
    const targetIndex = o.backends - 1
    const targetId = c.ids[targetIndex]!
    const target = o.scenario === 'redis-restart' ? 'redis' : o.scenario === 'balancer-restart' ? 'balancer' : targetId

    let states: Record<string, BackendState> = Object.fromEntries(c.ids.map((id) => [id, 'unknown' as BackendState]))
    let faultAt = -1
    let detectionSec: number | null = null
    let statusBase: StatusBody['totals'] | undefined
    let statusLast: StatusBody['totals'] | undefined
    let statusAcc = { retries: 0, rebounds: 0 }
    let balancerDown = false
    const pollStatus = async (): Promise<void> => {
      if (balancerDown) return
      const s = await fetchStatus(c.adminUrl)
      if (s === undefined) return
      // A restarted balancer starts its counters at zero: add up across restarts.
      if (statusLast !== undefined && (s.totals.retries < statusLast.retries || s.totals.rebounds < statusLast.rebounds)) {
        statusAcc = { retries: statusAcc.retries + statusLast.retries - (statusBase?.retries ?? 0), rebounds: statusAcc.rebounds + statusLast.rebounds - (statusBase?.rebounds ?? 0) }
        statusBase = { retries: 0, rebounds: 0 }
      }
      statusBase ??= s.totals
      statusLast = s.totals
      for (const b of s.backends) {
        const state = (['up', 'down', 'draining'].includes(b.state) ? b.state : 'unknown') as BackendState
        const before = states[b.id]
        if (before !== state) {
          states = { ...states, [b.id]: state }
          if (before !== 'unknown' || state !== 'up') event(`balancer marks ${b.id} ${state}`)
          if (faultAt >= 0 && detectionSec === null && b.id === targetId && state !== 'up') detectionSec = Math.round((now() - faultAt) * 100) / 100
        }
      }
    }
    await pollStatus()

    let pinnedAtFault = 0
    let lastPinned: Record<string, number> = {}
    let lastFailures = 0
    let lastFailureAt = -1
    let worstP99 = 0
    let unavailable503 = 0
    let prev: { elapsedMs: number, counters: LoadCounters } = { elapsedMs: 0, counters: emptyCounters() }
    const failuresOf = (k: LoadCounters): number => k.errors + k.timeouts + k.relogins + Object.entries(k.status).filter(([s]) => s.startsWith('5')).reduce((a, [, n]) => a + n, 0)

    const fault = async (): Promise<void> => {
      faultAt = now()
      pinnedAtFault = lastPinned[targetId] ?? 0
      switch (o.scenario) {
        case 'kill':
          c.instances[targetIndex]!.kill('SIGKILL')
          event(`killed ${targetId} (SIGKILL, pid ${c.instances[targetIndex]!.pid}); ${pinnedAtFault} users pinned to it`)
          break
        case 'drain':
          c.instances[targetIndex]!.kill('SIGTERM')
          event(`sent SIGTERM to ${targetId} (drain, ${o.drainMs} ms); ${pinnedAtFault} users pinned to it`)
          void c.instances[targetIndex]!.exited.then(() => event(`${targetId} exited after draining`))
          break
        case 'redis-restart':
          await redis!.stop()
          event(`stopped redis-server${o.redisPersist ? ' (append-only file kept)' : ' (no persistence: every key is gone)'}`)
          break
        case 'balancer-restart':
          balancerDown = true
          event('restarting the balancer (same port, same secret)')
          await c.restartBalancer()
          balancerDown = false
          event('balancer back')
          break
      }
    }
    const recover = async (): Promise<void> => {
      switch (o.scenario) {
        case 'kill':
        case 'drain':
          await c.instances[targetIndex]!.exited
          event(`restarting ${targetId} on its port`)
          await c.restartInstance(targetIndex)
          event(`${targetId} restarted (listening)`)
          break
        case 'redis-restart':
          event('restarting redis-server')
          await redis!.restart()
          event('redis-server restarted (answering PING)')
          break
        case 'balancer-restart':
          break
      }
    }

    load = startLoad({
      url: c.url, auth: o.strategy.startsWith('token') ? 'token' : 'cookie', connections: o.connections, userOffset: 0,
      warmupSec: 1.5, durationSec: o.durationSec, writeRatio: o.writeRatio, timeoutSec: 5, tickMs: o.tickMs, verifyPreferences: true,
    }, {
      onWarm: () => { hooks.onInfo?.(`${o.connections} users logged in; load running for ${o.durationSec}s`) },
      onStart: () => {
        t0 = Date.now()
        event(`load started: ${o.connections} users`)
        poller = setInterval(() => { void pollStatus() }, Math.min(250, o.tickMs))
        timers.push(setTimeout(() => { actions.push(fault().catch((err: Error) => event(`fault failed: ${err.message}`))) }, o.atSec * 1000))
        if (o.scenario !== 'balancer-restart') {
          timers.push(setTimeout(() => { actions.push(recover().catch((err: Error) => event(`restart failed: ${err.message}`))) }, o.restartAtSec * 1000))
        }
      },
      onTick: (tick) => {
        const dt = Math.max(0.001, (tick.elapsedMs - prev.elapsedMs) / 1000)
        const rateByInstance: Record<string, number> = {}
        for (const id of c.ids) rateByInstance[id] = Math.round(((tick.counters.byInstance[id] ?? 0) - (prev.counters.byInstance[id] ?? 0)) / dt)
        const rate = Math.round((tick.counters.responses - prev.counters.responses) / dt)
        const failures = failuresOf(tick.counters)
        if (faultAt >= 0) {
          if (failures > lastFailures) lastFailureAt = tick.elapsedMs / 1000
          worstP99 = Math.max(worstP99, tick.latencyP99Ms)
        }
        if (o.scenario === 'redis-restart') unavailable503 = tick.counters.status['503'] ?? 0
        lastFailures = failures
        lastPinned = tick.pinnedByInstance
        prev = { elapsedMs: tick.elapsedMs, counters: tick.counters }
        hooks.onFrame?.({ elapsedSec: tick.elapsedMs / 1000, counters: tick.counters, rateByInstance, rate, pinnedByInstance: tick.pinnedByInstance, states, latencyP99Ms: tick.latencyP99Ms })
      },
    })
    let result: LoadResult
    try {
      result = await load.result
    } finally {
      for (const t of timers) clearTimeout(t)
    }
    event('load finished')
    await Promise.all(actions)
    if (poller !== undefined) clearInterval(poller)
    await pollStatus()
    if (o.scenario === 'redis-restart') unavailable503 = result.status['503'] ?? 0
    if (failuresOf(result) > lastFailures && faultAt >= 0) lastFailureAt = result.durationSec

    const fivexx = Object.entries(result.status).filter(([s]) => s.startsWith('5')).reduce((a, [, n]) => a + n, 0)
    const totals = statusLast ?? { retries: 0, rebounds: 0 }
    const base = statusBase ?? { retries: 0, rebounds: 0 }
    const summary: FailoverSummary = {
      strategy: o.strategy,
      scenario: o.scenario,
      policy: o.policy,
      backends: o.backends,
      connections: o.connections,
      durationSec: Math.round(result.durationSec * 100) / 100,
      target,
      faultAtSec: Math.round(faultAt * 100) / 100,
      restartAtSec: o.restartAtSec,
      redisPersist: o.redisPersist,
      usersPinnedToTarget: pinnedAtFault,
      sessionsLost: result.usersRelogged,
      relogins: result.relogins,
      usersMoved: result.usersMoved,
      preferencesLost: result.preferencesLost,
      requests: result.responses,
      failed: { fivexx, connectionErrors: result.errors, timeouts: result.timeouts, total: fivexx + result.errors + result.timeouts },
      failedGets: result.failedGets,
      unavailable503,
      balancer: { retries: statusAcc.retries + totals.retries - base.retries, rebounds: statusAcc.rebounds + totals.rebounds - base.rebounds },
      detectionSec,
      recoverySec: lastFailureAt < 0 ? 0 : Math.max(0, Math.round((lastFailureAt - faultAt) * 100) / 100),
      worstP99Ms: worstP99,
      latencyMs: result.latencyMs,
      events,
      verdict: '',
    }
    summary.verdict = verdictOf(summary)
    return summary
  } finally {
    hooks.signal?.removeEventListener('abort', abort)
    for (const t of timers) clearTimeout(t)
    if (poller !== undefined) clearInterval(poller)
    load?.kill()
    await cluster?.close()
    await redis?.close()
  }
}

/** One sentence a person can act on. */
export function verdictOf (s: FailoverSummary): string {
  const lost = s.sessionsLost
  const failed = s.failed.total
  const what = s.scenario === 'kill' ? `killing ${s.target}` : s.scenario === 'drain' ? `draining ${s.target}` : s.scenario === 'redis-restart' ? `restarting Redis${s.redisPersist ? ' (with an append-only file)' : ' (no persistence)'}` : 'restarting the balancer'
  const lostText = lost === 0 ? 'no user lost a session' : `${lost} user${lost === 1 ? '' : 's'} lost their session and logged in again${s.usersPinnedToTarget > 0 && s.scenario !== 'redis-restart' ? ` (${s.usersPinnedToTarget} were pinned to ${s.target})` : ''}`
  const parts: string[] = []
  if (s.failed.fivexx > 0) parts.push(`${s.failed.fivexx} request${s.failed.fivexx === 1 ? '' : 's'} answered 5xx${s.unavailable503 > 0 ? ` (${s.unavailable503} of them fast 503s while Redis was down)` : ''}`)
  // A refused connection is an attempt, not a request: autocannon retries at once while nothing listens.
  if (s.failed.connectionErrors > 0) parts.push(`${s.failed.connectionErrors} connection attempt${s.failed.connectionErrors === 1 ? '' : 's'} failed`)
  if (s.failed.timeouts > 0) parts.push(`${s.failed.timeouts} request${s.failed.timeouts === 1 ? '' : 's'} timed out`)
  const failText = failed === 0 ? 'no request failed' : parts.join(', ')
  let why = ''
  if (s.strategy === 'memory' && lost > 0) why = ': in-memory sessions die with their instance, stickiness cannot save them'
  else if (s.strategy === 'memory' && lost === 0 && s.scenario === 'balancer-restart') why = ': the signed affinity cookie kept every user on its instance'
  else if (s.strategy === 'redis' && lost === 0) why = ': the shared store kept every session'
  else if (s.strategy === 'redis' && lost > 0 && s.scenario === 'redis-restart') why = ': the store itself lost its data; persistence would keep it'
  else if (s.strategy === 'token') why = ': stateless tokens need no server to remember them'
  else if (s.strategy === 'token-revocable' && s.scenario === 'redis-restart') why = lost === 0 ? ': tokens survive, but while Redis was down requests failed closed (503), and revocations made before a restart without persistence are forgotten' : ''
  else if (s.strategy === 'token-revocable') why = ': tokens need no session store; the revocation check followed the user'
  return `${s.strategy}, ${what}: ${lostText}; ${failText}${why}.`
}
