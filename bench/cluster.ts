import { startService, type Service, type ServiceOptions } from './service.js'
import type { Policy, Strategy } from './report-schema.js'

export interface ClusterOptions {
  strategy: Strategy
  /** Number of instances, ids s1 … sN. */
  backends: number
  policy: Policy
  /** Needed by the redis and token-revocable strategies. */
  redisUrl?: string
  /** Users DB file, already seeded. */
  usersDb: string
  /** Shared secret: cookie signing and JWT key for instances, affinity HMAC for the balancer. */
  secret: string
  /** Extra flags for every instance (e.g. ['--drain-ms', '2000']). */
  instanceArgs?: string[]
  /** Extra flags for the balancer (e.g. ['--health-interval', '250']). */
  balancerArgs?: string[]
  /** Each stderr line of the balancer (JSON logs: state changes). */
  onBalancerLog?: (line: string) => void
  /** Each stderr line of an instance. */
  onInstanceLog?: (id: string, line: string) => void
}

/** Instances plus the balancer in front of them, all our own processes on loopback. */
export interface Cluster {
  readonly options: ClusterOptions
  /** Current instance processes, index i is id s(i+1); replaced on restart. */
  readonly instances: Service[]
  readonly balancer: Service
  readonly url: string
  readonly adminUrl: string
  /** Instance ids, s1 … sN. */
  readonly ids: string[]
  /** PIDs of every process of ours in the cluster (for CPU sampling). */
  pids: () => { balancer: number, instances: number[] }
  /** Start instance i again on the port it had, so the balancer finds it back. */
  restartInstance: (i: number) => Promise<Service>
  /** Start the balancer again on the port it had (same secret and backends). */
  restartBalancer: () => Promise<void>
  /** Stop everything (SIGTERM, then SIGKILL after a grace). Idempotent. */
  close: () => Promise<void>
}

function portOf (url: string): string {
  return new URL(url).port
}

/** Start N instances and the balancer; on any failure, stop what was started and rethrow. */
export async function startCluster (opts: ClusterOptions): Promise<Cluster> {
  if (opts.backends < 1) throw new Error('backends must be >= 1')
  const ids = Array.from({ length: opts.backends }, (_, i) => `s${i + 1}`)
  const started: Service[] = []
  const instanceService = (id: string, port: string): ServiceOptions => ({
    onStderr: opts.onInstanceLog === undefined ? undefined : (line) => opts.onInstanceLog?.(id, line),
  })
  const startInstance = async (id: string, port = '0'): Promise<Service> => {
    const args = ['server', '--strategy', opts.strategy, '--id', id, '--port', port, '--host', '127.0.0.1',
      '--users', opts.usersDb, '--secret', opts.secret, ...(opts.instanceArgs ?? [])]
    if (opts.redisUrl !== undefined) args.push('--redis-url', opts.redisUrl)
    return await startService(args, instanceService(id, port))
  }
  const startBalancer = async (instances: Service[], port = '0', adminPort = '0'): Promise<Service> => {
    const args = ['balancer', '--policy', opts.policy, '--port', port, '--admin-port', adminPort, '--host', '127.0.0.1',
      '--secret', opts.secret, ...(opts.balancerArgs ?? [])]
    instances.forEach((s, i) => args.push('--backend', `${ids[i]}=${s.url}`))
    return await startService(args, { onStderr: opts.onBalancerLog })
  }

  try {
    const settled = await Promise.allSettled(ids.map((id) => startInstance(id)))
    for (const s of settled) if (s.status === 'fulfilled') started.push(s.value)
    const failed = settled.find((s) => s.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
    const instances = started.slice()
    let balancer = await startBalancer(instances)
    started.push(balancer)
    const balancerPort = portOf(balancer.url)
    const adminPort = portOf(String(balancer.info.adminUrl))
    let closed = false

    const cluster: Cluster = {
      options: opts,
      instances,
      get balancer () { return balancer },
      url: balancer.url,
      adminUrl: String(balancer.info.adminUrl),
      ids,
      pids: () => ({ balancer: balancer.pid, instances: instances.map((s) => s.pid) }),
      restartInstance: async (i) => {
        const old = instances[i]
        if (old === undefined) throw new Error(`no instance ${i}`)
        await old.stop(2000)
        const fresh = await startInstance(ids[i]!, portOf(old.url))
        instances[i] = fresh
        if (closed) await fresh.stop()
        return fresh
      },
      restartBalancer: async () => {
        await balancer.stop(2000)
        balancer = await startBalancer(instances, balancerPort, adminPort)
        if (closed) await balancer.stop()
      },
      close: async () => {
        closed = true
        await Promise.all([balancer.stop(3000), ...instances.map((s) => s.stop(3000))])
      },
    }
    return cluster
  } catch (err) {
    await Promise.all(started.map((s) => s.stop(1000)))
    throw err
  }
}
