import { resolve } from 'node:path'
import { UsageError } from '../bench/usage-error.js'
import { startServer } from './app.js'
import { helpText, intFlag, parseFlags, scryptFlag, type FlagSpec } from './cli-args.js'
import { isStrategyName, SCRYPT_DEFAULTS, SERVER_DEFAULTS, STRATEGIES } from './defaults.js'

const FLAGS: Record<string, FlagSpec> = {
  strategy: { type: 'string', help: `authentication strategy: ${STRATEGIES.join(' | ')} (required)` },
  port: { type: 'string', help: 'TCP port; 0 picks a free one and the listening line reports it', default: String(SERVER_DEFAULTS.port) },
  host: { type: 'string', help: 'address to bind', default: SERVER_DEFAULTS.host },
  id: { type: 'string', help: 'instance id, sent as x-instance-id and in the listening line', default: SERVER_DEFAULTS.id },
  'redis-url': { type: 'string', help: 'Redis for the redis and token-revocable strategies', default: `$REDIS_URL or ${SERVER_DEFAULTS.redisUrl}` },
  users: { type: 'string', help: 'users DB file (SQLite); seeded when missing or empty', default: '.data/users.db' },
  secret: { type: 'string', help: 'cookie and token signing secret, the same on every instance', default: '$SESSIONSCALE_SECRET or a fixed development secret' },
  'scrypt-cost': { type: 'string', help: 'scrypt N (power of two) for seeding and new passwords', default: `the DB's seeded cost, else ${SCRYPT_DEFAULTS.N}` },
  'seed-users': { type: 'string', help: 'users to seed when the DB is missing or empty', default: String(SERVER_DEFAULTS.seedUsers) },
  'drain-ms': { type: 'string', help: 'after SIGTERM keep serving (healthz 503) this long, ms', default: String(SERVER_DEFAULTS.drainMs) },
  'grace-ms': { type: 'string', help: 'then wait this long for in-flight requests before forcing exit, ms', default: String(SERVER_DEFAULTS.graceMs) },
  'access-ttl': { type: 'string', help: 'access token lifetime, s', default: String(SERVER_DEFAULTS.accessTtlS) },
  'refresh-ttl': { type: 'string', help: 'refresh token lifetime, s', default: String(SERVER_DEFAULTS.refreshTtlS) },
  'trust-proxy': { type: 'boolean', help: 'take the client address from X-Forwarded-For (login throttling)', default: 'false' },
  'log-level': { type: 'string', help: 'pino level (logs are JSON on stderr; debug adds per-request lines)', default: SERVER_DEFAULTS.logLevel },
  help: { type: 'boolean', short: 'h', help: 'print this help' },
}

const USAGE = 'Usage: sessionscale server --strategy <memory|redis|token|token-revocable> [flags]\n\n' +
  'Start one Koa instance. Prints one JSON "listening" line on stdout; logs JSON to stderr.\n' +
  'SIGTERM drains: /healthz answers 503 at once, other routes are served for --drain-ms, then it exits 0.'

export async function run (argv: string[]): Promise<number> {
  const v = parseFlags(argv, FLAGS)
  if (v['help'] === true) {
    process.stdout.write(helpText(USAGE, FLAGS))
    return 0
  }
  const strategy = v['strategy']
  if (typeof strategy !== 'string') throw new UsageError(`--strategy is required: ${STRATEGIES.join(', ')}`)
  if (!isStrategyName(strategy)) throw new UsageError(`--strategy must be one of ${STRATEGIES.join(', ')}, got "${strategy}"`)
  const id = typeof v['id'] === 'string' ? v['id'] : undefined
  if (id !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new UsageError(`--id must be 1-64 characters of [A-Za-z0-9._-], got "${id}"`)
  const secret = typeof v['secret'] === 'string' ? v['secret'] : process.env['SESSIONSCALE_SECRET']
  if (secret !== undefined && secret.length < 8) throw new UsageError('--secret must be at least 8 characters')
  const logLevel = typeof v['log-level'] === 'string' ? v['log-level'] : undefined
  if (logLevel !== undefined && !['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new UsageError(`--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`)
  }
  const redisUrl = typeof v['redis-url'] === 'string' ? v['redis-url'] : process.env['REDIS_URL'] || undefined
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) throw new UsageError(`--redis-url must start with redis:// or rediss://, got "${redisUrl}"`)
  const drainMs = intFlag('drain-ms', v['drain-ms'], 0) ?? SERVER_DEFAULTS.drainMs
  const graceMs = intFlag('grace-ms', v['grace-ms'], 0) ?? SERVER_DEFAULTS.graceMs

  const srv = await startServer({
    strategy,
    port: intFlag('port', v['port'], 0, 65535),
    host: typeof v['host'] === 'string' ? v['host'] : undefined,
    id,
    redisUrl,
    usersDbPath: typeof v['users'] === 'string' ? resolve(v['users']) : undefined,
    secret,
    scryptN: scryptFlag('scrypt-cost', v['scrypt-cost']),
    seedUsers: intFlag('seed-users', v['seed-users'], 0),
    drainMs,
    graceMs,
    accessTtlS: intFlag('access-ttl', v['access-ttl'], 1),
    refreshTtlS: intFlag('refresh-ttl', v['refresh-ttl'], 1),
    trustProxy: v['trust-proxy'] === true,
    logLevel,
  })
  if (secret === undefined) srv.logger.warn('no --secret: using the fixed development secret (never in production)')

  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    srv.drain()
    srv.logger.info({ signal, drainMs }, 'draining')
    // Whatever happens, the process is gone after drain + grace (+1 s for cleanup).
    setTimeout(() => { srv.logger.error('forced exit after grace'); process.exit(1) }, drainMs + graceMs + 1000).unref()
    setTimeout(() => {
      srv.close().then(() => {
        srv.logger.info('stopped')
        srv.logger.flush(() => process.exit(0))
      }, (err: unknown) => {
        srv.logger.error({ err }, 'close failed')
        srv.logger.flush(() => process.exit(1))
      })
    }, drainMs)
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))

  process.stdout.write(JSON.stringify({ event: 'listening', service: 'server', id: srv.id, strategy: srv.strategy, url: srv.url, pid: process.pid }) + '\n')
  srv.logger.info({ url: srv.url }, 'listening')
  // Keep running until a signal: never resolve.
  return new Promise<number>(() => {})
}
