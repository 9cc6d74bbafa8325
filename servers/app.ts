import http from 'node:http'
import { existsSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Koa from 'koa'
import type { Logger } from 'pino'
import { defaultUsersDbPath, isStrategyName, SCRYPT_DEFAULTS, SERVER_DEFAULTS, STRATEGIES, type StrategyName } from './defaults.js'
import { HttpError } from './errors.js'
import { createLogger } from './logger.js'
import { checkScryptN, hashPassword, parseHash } from './password.js'
import { createRoutes, type Routes } from './routes.js'
import { createStrategy, type AuthStrategy } from './strategies/index.js'
import { LoginThrottle } from './throttle.js'
import { seedUsersDb, UsersDb } from './users-db.js'

/** Options of one instance; every field but `strategy` has a default (servers/defaults.ts). */
export interface ServerOptions {
  strategy: StrategyName
  /** Default 0 (a free port). */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** Instance id in `x-instance-id` and the listening line. Default 's1'. */
  id?: string
  /** Redis for the redis and token-revocable strategies. Default redis://127.0.0.1:6379. */
  redisUrl?: string
  /** Users DB file. Default `.data/users.db` under the working directory. */
  usersDbPath?: string
  /** Cookie-signing and token secret, shared by the cluster. */
  secret?: string
  /** scrypt N for seeding and new password hashes. Default: the DB's seeded cost, else 2^15. */
  scryptN?: number
  /** Users to seed when the DB is missing or empty. Default 1000. */
  seedUsers?: number
  /** ms to keep serving after drain() before close() is expected (used by main.ts). Default 3000. */
  drainMs?: number
  /** ms close() waits for in-flight requests before dropping connections. Default 5000. */
  graceMs?: number
  accessTtlS?: number
  refreshTtlS?: number
  sessionMaxAgeMs?: number
  bodyLimitBytes?: number
  loginMaxFailures?: number
  loginWindowMs?: number
  /** Trust X-Forwarded-For for the client address (login throttling). Default false. */
  trustProxy?: boolean
  /** Default: pino JSON to stderr at `logLevel`. */
  logger?: Logger
  logLevel?: string
}

export interface RunningServer {
  readonly url: string
  readonly port: number
  readonly id: string
  readonly strategy: StrategyName
  readonly server: http.Server
  readonly logger: Logger
  /** True once drain() was called. */
  readonly draining: boolean
  /** /healthz answers 503 from now on; every other route keeps being served (pinned users). */
  drain: () => void
  /** Stop accepting, close idle sockets, wait for in-flight requests (up to graceMs), release Redis and the DB. Idempotent. */
  close: () => Promise<void>
}

type Resolved = Required<Omit<ServerOptions, 'logger' | 'scryptN'>> & { scryptN: number | undefined }

function resolveOptions (opts: ServerOptions): Resolved {
  if (!isStrategyName(opts.strategy)) throw new TypeError(`strategy must be one of ${STRATEGIES.join(', ')}, got ${String(opts.strategy)}`)
  const r: Resolved = {
    ...SERVER_DEFAULTS,
    usersDbPath: defaultUsersDbPath(),
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    strategy: opts.strategy,
    scryptN: opts.scryptN,
  } as Resolved
  const ints: Array<[keyof Resolved, number]> = [
    ['port', 0], ['seedUsers', 0], ['drainMs', 0], ['graceMs', 0], ['accessTtlS', 1], ['refreshTtlS', 1],
    ['sessionMaxAgeMs', 1000], ['bodyLimitBytes', 1], ['loginMaxFailures', 1], ['loginWindowMs', 1],
  ]
  for (const [k, min] of ints) {
    const v = r[k]
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`${k} must be an integer >= ${min}, got ${String(v)}`)
  }
  if (r.port > 65535) throw new RangeError(`port must be <= 65535, got ${r.port}`)
  if (r.scryptN !== undefined) checkScryptN(r.scryptN)
  if (typeof r.secret !== 'string' || r.secret.length < 8) throw new TypeError('secret must be at least 8 characters')
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(r.id)) throw new TypeError(`id must be 1-64 characters of [A-Za-z0-9._-], got ${r.id}`)
  return r
}

/**
 * Mount the instance's middleware on `app` (the app the strategy was built
 * with: koa-session extends its context): one error middleware, then the
 * route table.
 */
export function mountApp (app: Koa, o: { id: string, strategy: AuthStrategy, routes: Routes, logger: Logger, isClosing: () => boolean }): Koa {
  app.silent = true
  app.on('error', (err: unknown) => o.logger.error({ err }, 'koa error'))

  // The one error-handling middleware: every failure becomes {error:{code,message}}, never a stack.
  // Per-request lines only at debug: benchmarks run at info and pay nothing for them.
  const debug = o.logger.isLevelEnabled('debug')
  const failureLog = new RateLimitedLog(o.logger)
  app.use(async (ctx, next) => {
    if (debug) {
      const started = process.hrtime.bigint()
      ctx.res.once('finish', () => o.logger.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request'))
    }
    ctx.set('x-instance-id', o.id)
    if (o.isClosing()) ctx.set('Connection', 'close')
    try {
      await next()
    } catch (err) {
      const e = toHttpError(err)
      if (e.status >= 500) {
        // A Redis outage fails every request: one line per second, not one per request.
        failureLog.note(() => e.code === 'ERR_INTERNAL'
          ? o.logger.error({ err, method: ctx.method, path: ctx.path }, 'unhandled error')
          : o.logger.warn({ code: e.code, cause: (e.cause as Error | undefined)?.message, path: ctx.path }, 'request failed'))
      }
      if (ctx.headerSent || !ctx.writable) return
      // Like koa's ctx.onerror: drop what the failed handler set (e.g. a Set-Cookie), keep ours.
      for (const name of ctx.res.getHeaderNames()) ctx.res.removeHeader(name)
      ctx.set('x-instance-id', o.id)
      if (o.isClosing()) ctx.set('Connection', 'close')
      ctx.set(e.headers)
      ctx.status = e.status
      ctx.body = { error: { code: e.code, message: e.message } }
    }
  })
  app.use(o.routes.dispatch)
  return app
}

/** Our errors as they are; 4xx errors from koa or its deps (http-errors) keep their status; anything else is a 500 without details. */
function toHttpError (err: unknown): HttpError {
  if (err instanceof HttpError) return err
  const e = err as { status?: unknown, expose?: unknown, message?: unknown }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new HttpError(e.status, 'ERR_BAD_REQUEST', e.expose === true && typeof e.message === 'string' ? e.message : 'bad request', { cause: err })
  }
  return new HttpError(500, 'ERR_INTERNAL', 'internal error', { cause: err })
}

/** Logs the first failure of each second and how many were suppressed since. */
class RateLimitedLog {
  #windowStart = 0
  #suppressed = 0
  constructor (readonly logger: Logger) {}
  note (log: () => void): void {
    const now = Date.now()
    if (now - this.#windowStart < 1000) { this.#suppressed++; return }
    if (this.#suppressed > 0) this.logger.warn({ suppressed: this.#suppressed }, 'similar failures not logged')
    this.#windowStart = now
    this.#suppressed = 0
    log()
  }
}

/** The scrypt cost of the seeded users (read from one stored hash), for a dummy hash with the same timing. */
function seededScrypt (users: UsersDb): number | undefined {
  const admin = users.findByUsername('admin')
  return admin === undefined ? undefined : parseHash(admin.passwordHash)?.N
}

function countUsers (path: string): number {
  const db = new UsersDb(path)
  try { return db.count() } finally { db.close() }
}

/** Start one instance. Seeds the users DB when missing or empty. */
export async function startServer (options: ServerOptions): Promise<RunningServer> {
  const o = resolveOptions(options)
  const logger = options.logger ?? createLogger({ level: o.logLevel, base: { service: 'server', id: o.id, strategy: o.strategy } })

  if (!existsSync(o.usersDbPath) || countUsers(o.usersDbPath) === 0) {
    const seeded = await seedUsersDb({ path: o.usersDbPath, users: o.seedUsers, scryptN: o.scryptN })
    logger.info({ path: seeded.path, users: seeded.users, scrypt: seeded.scrypt }, 'seeded users db')
  }
  const users = new UsersDb(o.usersDbPath)
  const dbN = seededScrypt(users)
  const scryptN = o.scryptN ?? dbN ?? SCRYPT_DEFAULTS.N
  // Unknown users are verified against this so they cost the same time as wrong passwords.
  const dummyHash = await hashPassword(randomBytes(16).toString('hex'), { N: dbN ?? scryptN })

  const app = new Koa({ proxy: o.trustProxy })
  const strategy = createStrategy(o.strategy, {
    app, users, logger, secret: o.secret, redisUrl: o.redisUrl,
    redisCommandTimeoutMs: SERVER_DEFAULTS.redisCommandTimeoutMs, redisRetryMs: SERVER_DEFAULTS.redisRetryMs,
    accessTtlS: o.accessTtlS, refreshTtlS: o.refreshTtlS, sessionMaxAgeMs: o.sessionMaxAgeMs, defaultLanguage: SERVER_DEFAULTS.defaultLanguage,
  })
  try {
    return await listen(o, { app, strategy, users, logger, dummyHash, scryptN })
  } catch (err) {
    // A port in use or the like: release Redis and the DB so the process can exit.
    await strategy.close().catch(() => {})
    users.close()
    throw err
  }
}

async function listen (
  o: Resolved,
  d: { app: Koa, strategy: AuthStrategy, users: UsersDb, logger: Logger, dummyHash: string, scryptN: number },
): Promise<RunningServer> {
  const { app, strategy, users, logger, dummyHash, scryptN } = d
  let draining = false
  let closing = false
  await strategy.ready()
  const routes = createRoutes({
    id: o.id, strategy, users, logger, dummyHash, scryptN, bodyLimitBytes: o.bodyLimitBytes,
    throttle: new LoginThrottle({ maxFailures: o.loginMaxFailures, windowMs: o.loginWindowMs }),
    isDraining: () => draining,
  })
  mountApp(app, { id: o.id, strategy, routes, logger, isClosing: () => closing })

  const server = http.createServer(app.callback())
  server.keepAliveTimeout = SERVER_DEFAULTS.keepAliveTimeoutMs
  server.headersTimeout = SERVER_DEFAULTS.headersTimeoutMs
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port, o.host, () => { server.off('error', reject); resolve() })
  })
  const { port } = server.address() as AddressInfo
  const host = o.host.includes(':') ? `[${o.host}]` : o.host

  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= (async () => {
      draining = true
      closing = true
      await new Promise<void>((resolve) => {
        // A request in flight when close() began was answered without `Connection: close`,
        // so its keep-alive socket goes idle afterwards and nothing would ever close it:
        // the process then waited out the whole grace. Sweep idle sockets until all are gone.
        const sweep = setInterval(() => server.closeIdleConnections(), 50)
        const done = (): void => { clearInterval(sweep); clearTimeout(force); resolve() }
        const force = setTimeout(() => { server.closeAllConnections(); done() }, o.graceMs)
        force.unref()
        server.close(done)
        server.closeIdleConnections()
      })
      await strategy.close()
      users.close()
    })()
    return closed
  }

  return {
    url: `http://${host}:${port}`,
    port,
    id: o.id,
    strategy: o.strategy,
    server,
    logger,
    get draining () { return draining },
    drain: () => {
      if (!draining) logger.info('draining: /healthz now answers 503')
      draining = true
    },
    close,
  }
}
