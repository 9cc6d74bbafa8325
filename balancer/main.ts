/**
 * `sessionscale balancer …`: the balancer's entry point (the only module that
 * reads argv/env). Prints one JSON listening line on stdout, logs JSON to
 * stderr, SIGTERM/SIGINT: stop accepting, finish in-flight, exit.
 */
import { parseArgs } from 'node:util'
import { UsageError } from '../bench/usage-error.js'
import { DEFAULTS, POLICY_NAMES, type BackendSpec, type PolicyName } from './defaults.js'
import { backendIdFromUrl, checkBackendSpec } from './pool.js'
import { startBalancer } from './balancer.js'

const FLAGS = {
  backend: { type: 'string', multiple: true, help: '[id=]http://host:port of an instance (repeatable). A bare URL gets the id "b" + 8 hex digits of SHA-256(origin)', def: 'none' },
  policy: { type: 'string', help: `routing policy: ${POLICY_NAMES.join(' | ')}`, def: DEFAULTS.policy },
  port: { type: 'string', help: 'port of the proxy (0 = ephemeral)', def: String(DEFAULTS.port) },
  host: { type: 'string', help: 'address the proxy binds', def: DEFAULTS.host },
  'admin-port': { type: 'string', help: 'port of the admin API (0 = ephemeral)', def: String(DEFAULTS.adminPort) },
  'admin-host': { type: 'string', help: 'address the admin API binds (keep it loopback)', def: DEFAULTS.adminHost },
  secret: { type: 'string', help: 'HMAC secret of the affinity cookie; balancers sharing it route alike (env LB_SECRET)', def: 'random per process' },
  cookie: { type: 'string', help: 'name of the affinity cookie', def: DEFAULTS.cookieName },
  'health-interval': { type: 'string', help: 'active /healthz check interval, ms (200 ms while a state is changing)', def: String(DEFAULTS.healthInterval) },
  rise: { type: 'string', help: 'consecutive good checks to bring a backend up', def: String(DEFAULTS.rise) },
  fall: { type: 'string', help: 'consecutive failed checks to take a backend down', def: String(DEFAULTS.fall) },
  'connect-timeout': { type: 'string', help: 'upstream connect timeout, ms (then 502, retried elsewhere)', def: String(DEFAULTS.connectTimeout) },
  timeout: { type: 'string', help: 'upstream response timeout, ms (then 504)', def: String(DEFAULTS.timeout) },
  'hash-cookie': { type: 'string', help: 'session cookie(s) the hash policy keys on, comma-separated (then Authorization, then client address)', def: DEFAULTS.hashCookie },
  'log-level': { type: 'string', help: 'pino log level (debug logs every rebound and failed attempt)', def: DEFAULTS.logLevel },
  help: { type: 'boolean', short: 'h', help: 'show this help', def: '' },
} as const

export function usage (): string {
  const rows = Object.entries(FLAGS).map(([name, f]) => {
    const left = `--${name}${f.type === 'string' ? ' <value>' : ''}`
    return `  ${left.padEnd(26)} ${f.help}${f.def !== '' ? ` (default: ${f.def})` : ''}`
  })
  return `Usage: sessionscale balancer --backend [id=]http://127.0.0.1:4001 [--backend …] [flags]\n\n${rows.join('\n')}\n\n` +
    'Prints one JSON line {"event":"listening",…} on stdout once listening; logs JSON to stderr.\n' +
    'Admin API (admin port): GET /_lb/status, GET /metrics, POST /_lb/backends {id,url},\n' +
    '  DELETE /_lb/backends/<id>, POST /_lb/backends/<id>/drain, POST /_lb/backends/<id>/enable\n'
}

function int (name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${value}"`)
  return n
}

/** Parse `[id=]http://…`; the id rule and URL rule are the pool's, messages name --backend. */
export function parseBackend (arg: string): Required<BackendSpec> {
  const eq = arg.indexOf('=')
  const hasId = eq > 0 && !arg.slice(0, eq).includes(':')
  const url = hasId ? arg.slice(eq + 1) : arg
  if (!/^http:\/\//i.test(url)) throw new UsageError(`--backend must be an http:// URL, got "${arg}"`)
  let id: string
  try {
    id = hasId ? arg.slice(0, eq) : backendIdFromUrl(url)
    return { id, url: checkBackendSpec(id, url, '--backend') }
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

export async function run (argv: string[]): Promise<number | undefined> {
  let values: Record<string, string | boolean | string[] | undefined>
  try {
    const options = Object.fromEntries(Object.entries(FLAGS).map(([k, f]) => [k, 'short' in f ? { type: f.type, short: f.short } : 'multiple' in f ? { type: f.type, multiple: true } : { type: f.type }]))
    values = parseArgs({ args: argv, options: options as never, strict: true, allowPositionals: false }).values as typeof values
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${usage()}`)
  }
  if (values['help'] === true) { process.stdout.write(usage()); return 0 }
  const backends = ((values['backend'] as string[] | undefined) ?? []).map(parseBackend)
  const ids = new Set<string>()
  for (const b of backends) {
    if (ids.has(b.id)) throw new UsageError(`--backend id "${b.id}" given twice`)
    ids.add(b.id)
  }
  const policy = (values['policy'] as string | undefined) ?? DEFAULTS.policy
  if (!POLICY_NAMES.includes(policy as PolicyName)) throw new UsageError(`--policy must be one of ${POLICY_NAMES.join(', ')}, got "${policy}"`)
  const str = (k: string): string | undefined => values[k] as string | undefined
  const balancer = await startBalancer({
    backends,
    policy: policy as PolicyName,
    port: int('port', str('port'), 0),
    host: str('host'),
    adminPort: int('admin-port', str('admin-port'), 0),
    adminHost: str('admin-host'),
    secret: str('secret') ?? process.env['LB_SECRET'],
    cookieName: str('cookie'),
    healthInterval: int('health-interval', str('health-interval'), 1),
    rise: int('rise', str('rise'), 1),
    fall: int('fall', str('fall'), 1),
    connectTimeout: int('connect-timeout', str('connect-timeout'), 1),
    timeout: int('timeout', str('timeout'), 1),
    hashCookie: str('hash-cookie'),
    logLevel: str('log-level'),
  })
  process.stdout.write(JSON.stringify({
    event: 'listening',
    service: 'balancer',
    url: balancer.url,
    adminUrl: balancer.adminUrl,
    pid: process.pid,
    policy: balancer.policy,
    backends: balancer.pool.backends.map((b) => ({ id: b.id, url: b.url })),
  }) + '\n')
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
      process.stderr.write(JSON.stringify({ level: 30, time: Date.now(), service: 'balancer', event: 'closing', msg: 'signal received: finishing in-flight requests' }) + '\n')
      void balancer.close().then(resolve)
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
  return 0
}
