// Real Koa instances (servers/) behind the balancer: kill -9 one of two
// instances under load. Users pinned to it are re-pinned; memory-strategy
// users lose their session (401 on the new backend), redis and token users
// keep getting 200.
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startService, type Service } from '../../bench/service.js'
import { demoCredentials, seedUsersDb } from '../../servers/users-db.js'
import { redisUrl } from '../helpers/redis.js'
import { startBalancerProcess } from './fixtures/cluster.js'

const SECRET = 'balancer-e2e-secret'

async function instance (t: Test, strategy: string, id: string, db: string, extra: string[]): Promise<Service> {
  const svc = await startService(['server', '--strategy', strategy, '--port', '0', '--id', id, '--users', db, '--secret', SECRET, '--scrypt-cost', '1024', '--drain-ms', '0', '--grace-ms', '500', ...extra])
  t.teardown(() => svc.stop(2000))
  return svc
}

interface UserResult {
  firstId: string | null
  /** Statuses of requests answered before the kill. */
  before: number[]
  /** Statuses of requests in flight at the kill (either answer is right; never a failure). */
  during: number[]
  /** Statuses (and instance ids) of requests sent after the kill. */
  afterKill: number[]
  afterKillIds: string[]
}

t.test('kill -9 of one of two instances: memory users lose their session, redis and token users do not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionscale-lb-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const db = join(dir, 'users.db')
  await seedUsersDb({ path: db, users: 30, scryptN: 1024 })
  const redis = await redisUrl(t)
  const strategies = redis === undefined ? ['memory', 'token'] : ['memory', 'redis', 'token']
  const clusters = await Promise.all(strategies.map(async (strategy) => {
    const extra = strategy === 'redis' ? ['--redis-url', redis!] : []
    const [s1, s2] = await Promise.all([instance(t, strategy, 's1', db, extra), instance(t, strategy, 's2', db, extra)])
    const lb = await startBalancerProcess(t, ['--backend', `s1=${s1.url}`, '--backend', `s2=${s2.url}`])
    return { strategy, s1, s2, lb }
  }))

  const live: UserResult[] = []
  let killed = false
  let stop = false
  const user = async (lbUrl: string, strategy: string, i: number): Promise<UserResult> => {
    const jar = new Map<string, string>()
    const keep = (res: Response): void => {
      for (const c of res.headers.getSetCookie()) {
        const pair = c.split(';', 1)[0]!
        const eq = pair.indexOf('=')
        jar.set(pair.slice(0, eq), pair.slice(eq + 1))
      }
    }
    const cookie = (): string => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const login = await fetch(`${lbUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(demoCredentials(i)) })
    keep(login)
    const body = await login.json() as { accessToken?: string }
    t.equal(login.status, 200, `${strategy} user${i} logged in`, { diagnostic: false })
    const headers = (): Record<string, string> => strategy === 'token' ? { cookie: cookie(), authorization: `Bearer ${body.accessToken!}` } : { cookie: cookie() }
    const r: UserResult = { firstId: login.headers.get('x-instance-id'), afterKill: [], afterKillIds: [], before: [], during: [] }
    live.push(r)
    while (!stop) {
      const sentAfterKill = killed
      const res = await fetch(`${lbUrl}/api/me`, { headers: headers() })
      keep(res)
      await res.arrayBuffer()
      if (sentAfterKill) { r.afterKill.push(res.status); r.afterKillIds.push(res.headers.get('x-instance-id') ?? '') } else if (!killed) { r.before.push(res.status) } else { r.during.push(res.status) }
    }
    return r
  }
  let n = 0
  const running = Promise.all(clusters.map(async (c) => ({ c, users: await Promise.all(Array.from({ length: 6 }, () => user(c.lb.url, c.strategy, ++n))) })))
  // Kill once every user has logged in and made a few requests (logins run scrypt: slow on a busy machine).
  const total = clusters.length * 6
  for (let i = 0; i < 300 && !(live.length === total && live.every((u) => u.before.length >= 5)); i++) await sleep(50)
  for (const c of clusters) c.s1.kill('SIGKILL')
  killed = true
  await sleep(2000)
  stop = true
  const results = await running

  for (const { c, users } of results) {
    const on1 = users.filter((u) => u.firstId === 's1')
    const on2 = users.filter((u) => u.firstId === 's2')
    t.ok(on1.length > 0 && on2.length > 0, `${c.strategy}: users on both instances before the kill`)
    t.ok(users.every((u) => u.before.length > 0 && u.before.every((s) => s === 200)), `${c.strategy}: all 200 before the kill`, { before: users.map((u) => [u.before.length, ...new Set(u.before)]) })
    t.ok(users.every((u) => u.during.every((s) => s === 200 || s === 401)), `${c.strategy}: requests in flight at the kill did not fail`, { during: users.map((u) => u.during) })
    t.ok(users.every((u) => u.afterKill.length > 0 && u.afterKillIds.every((id) => id === 's2')), `${c.strategy}: everyone served by s2 after the kill`)
    t.ok(on2.every((u) => u.afterKill.every((s) => s === 200)), `${c.strategy}: users of the surviving instance keep 200`)
    if (c.strategy === 'memory') {
      t.ok(on1.every((u) => u.afterKill.every((s) => s === 401)), 'memory: users of the killed instance lost their session (401)', { statuses: on1.map((u) => [...new Set(u.afterKill)]) })
    } else {
      t.ok(on1.every((u) => u.afterKill.every((s) => s === 200)), `${c.strategy}: users of the killed instance keep 200 on s2`, { statuses: on1.map((u) => [...new Set(u.afterKill)]) })
    }
  }
})
