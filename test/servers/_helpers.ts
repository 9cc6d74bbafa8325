import type { Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startService, type Service } from '../../bench/service.js'
import { seedUsersDb } from '../../servers/users-db.js'

/** The secret every test instance shares, so tests can forge tokens with other keys/clocks. */
export const TEST_SECRET = 'test-secret-0123456789'

/** Demo users in test DBs (plus admin). */
export const TEST_USERS = 40

/** A temp users DB seeded at scrypt N=1024, removed on teardown. */
export async function seededDb (t: Test): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionscale-users-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'users.db')
  await seedUsersDb({ path, users: TEST_USERS, scryptN: 1024 })
  return path
}

/** Start a real `sessionscale server` process; stopped on teardown. */
export async function startInstance (t: Test, strategy: string, dbPath: string, extra: string[] = []): Promise<Service> {
  const svc = await startService([
    'server', '--strategy', strategy, '--port', '0', '--users', dbPath, '--secret', TEST_SECRET,
    '--scrypt-cost', '1024', '--drain-ms', '0', '--grace-ms', '1000', ...extra,
  ])
  t.teardown(() => svc.stop())
  return svc
}

export interface Reply {
  status: number
  headers: Headers
  body: any
  text: string
}

export interface RequestOptions {
  json?: unknown
  /** Raw body (with contentType). */
  body?: string
  contentType?: string
  headers?: Record<string, string>
  /** Bearer token. */
  token?: string
}

/**
 * A fetch client with its own cookie jar (cookies as a browser would keep
 * them, minus attributes). Every reply is checked for stack traces.
 */
export class Client {
  readonly cookies = new Map<string, string>()
  constructor (readonly t: Test, public base: string) {}

  cookieHeader (): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  async req (method: string, path: string, o: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...o.headers }
    let body: string | undefined
    if (o.json !== undefined) { body = JSON.stringify(o.json); headers['content-type'] = 'application/json' }
    if (o.body !== undefined) { body = o.body; if (o.contentType !== undefined) headers['content-type'] = o.contentType }
    if (this.cookies.size > 0) headers['cookie'] = this.cookieHeader()
    if (o.token !== undefined) headers['authorization'] = `Bearer ${o.token}`
    const res = await fetch(this.base + path, { method, headers, body })
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';', 1)
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      const value = pair!.slice(eq + 1)
      if (value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    const text = await res.text()
    this.t.notMatch(text, '    at ', `${method} ${path}: no stack trace in the body`)
    let parsed: unknown
    try { parsed = text === '' ? undefined : JSON.parse(text) } catch { parsed = undefined }
    return { status: res.status, headers: res.headers, body: parsed, text }
  }

  /** POST /auth/login and return the reply. */
  login (username: string, password: string): Promise<Reply> {
    return this.req('POST', '/auth/login', { json: { username, password } })
  }
}

/** Poll `fn` every 100 ms until it returns true or `ms` pass. */
export async function waitFor (fn: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await fn()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
