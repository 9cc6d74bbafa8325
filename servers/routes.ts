import type Koa from 'koa'
import type { Logger } from 'pino'
import { languageField, readJsonBody, stringField } from './body.js'
import { forbidden, HttpError, invalidCredentials, methodNotAllowed, notFound, validation } from './errors.js'
import { hashPassword, verifyPassword } from './password.js'
import type { AuthStrategy } from './strategies/index.js'
import type { LoginThrottle } from './throttle.js'
import type { UsersDb } from './users-db.js'

export interface RoutesOptions {
  id: string
  strategy: AuthStrategy
  users: UsersDb
  logger: Logger
  throttle: LoginThrottle
  /** Verified against for unknown usernames, so they take as long as a wrong password. */
  dummyHash: string
  /** scrypt N for new password hashes. */
  scryptN: number
  bodyLimitBytes: number
  isDraining: () => boolean
}

export interface Routes {
  /** The router middleware: 404/405, /healthz outside the strategy, everything else inside it. */
  dispatch: Koa.Middleware
}

type Handler = (ctx: Koa.Context) => Promise<void>
type Method = 'GET' | 'POST' | 'PUT'

const MIN_PASSWORD = 8

/** The instance's HTTP API (DESIGN.md, "Instances"), the same for every strategy. */
export function createRoutes (o: RoutesOptions): Routes {
  const { strategy, users, throttle } = o
  const body = (ctx: Koa.Context): Promise<Record<string, unknown>> => readJsonBody(ctx.req, o.bodyLimitBytes)

  const table: Record<string, Partial<Record<Method, Handler>>> = {
    '/auth/login': {
      POST: async (ctx) => {
        const b = await body(ctx)
        const username = stringField(b, 'username', 128)
        const password = stringField(b, 'password', 1024)
        // Failures only, keyed on username + address: the bench's thousands of logins through one balancer address never count.
        const key = `${username}\u0000${ctx.ip}`
        throttle.check(key)
        const row = users.findByUsername(username)
        const ok = await verifyPassword(password, row?.passwordHash ?? o.dummyHash)
        if (row === undefined || !ok) {
          throttle.fail(key)
          throw invalidCredentials()
        }
        throttle.succeed(key)
        ctx.body = await strategy.login(ctx, { id: row.id, username: row.username, role: row.role })
      },
    },
    '/auth/logout': {
      POST: async (ctx) => {
        const p = await strategy.authenticate(ctx)
        ctx.body = await strategy.logout(ctx, p)
      },
    },
    '/auth/refresh': {
      POST: async (ctx) => {
        const b = await body(ctx)
        ctx.body = await strategy.refresh(ctx, stringField(b, 'refreshToken', 4096))
      },
    },
    '/auth/password': {
      POST: async (ctx) => {
        const p = await strategy.authenticate(ctx)
        const b = await body(ctx)
        const current = stringField(b, 'currentPassword', 1024)
        const next = stringField(b, 'newPassword', 1024)
        if (next.length < MIN_PASSWORD) throw validation(`"newPassword" must be at least ${MIN_PASSWORD} characters`)
        const key = `password\u0000${p.user.id}`
        throttle.check(key)
        const row = users.findById(p.user.id)
        if (row === undefined || !await verifyPassword(current, row.passwordHash)) {
          throttle.fail(key)
          throw invalidCredentials()
        }
        users.setPasswordHash(row.id, await hashPassword(next, { N: o.scryptN }))
        ctx.body = { changed: true, ...await strategy.revokeOthers(ctx, p) }
      },
    },
    '/api/me': {
      GET: async (ctx) => {
        const p = await strategy.authenticate(ctx)
        ctx.body = { user: p.user, language: p.language, instance: o.id, strategy: strategy.name }
      },
    },
    '/api/preferences': {
      PUT: async (ctx) => {
        const p = await strategy.authenticate(ctx)
        strategy.checkCsrf(ctx, p)
        const language = languageField(await body(ctx))
        ctx.body = await strategy.setLanguage(ctx, p, language)
      },
    },
    '/api/admin': {
      GET: async (ctx) => {
        const p = await strategy.authenticate(ctx)
        if (p.user.role !== 'admin') throw forbidden('admin role required')
        ctx.body = { admin: true, user: p.user, instance: o.id }
      },
    },
  }

  const healthz: Handler = async (ctx) => {
    // Redis being down is NOT an instance failure (the balancer would take out every
    // instance at once): it is reported per request as 503 ERR_STORE_UNAVAILABLE.
    const draining = o.isDraining()
    ctx.status = draining ? 503 : 200
    ctx.body = { status: draining ? 'draining' : 'ok', id: o.id, strategy: strategy.name }
  }

  const methodOf = (ctx: Koa.Context): string => ctx.method === 'HEAD' ? 'GET' : ctx.method

  const dispatch: Koa.Middleware = async (ctx) => {
    if (ctx.path === '/healthz') {
      if (methodOf(ctx) !== 'GET') throw methodNotAllowed(['GET', 'HEAD'])
      await healthz(ctx)
      return
    }
    const route = table[ctx.path]
    if (route === undefined) throw notFound(`no route ${ctx.path}`)
    const handler = route[methodOf(ctx) as Method]
    if (handler === undefined) throw methodNotAllowed(Object.keys(route))
    if (ctx.get('x-affinity') === 'rebound') o.logger.debug({ path: ctx.path }, 'affinity rebound by the balancer')
    if (strategy.middleware === undefined) {
      await handler(ctx)
    } else {
      await strategy.middleware(ctx, () => handler(ctx))
    }
    if (ctx.body === undefined) throw new HttpError(500, 'ERR_INTERNAL', 'handler set no body')
  }

  return { dispatch }
}
