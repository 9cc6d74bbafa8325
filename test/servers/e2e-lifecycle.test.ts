import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateRedis } from '../helpers/redis.js'
import { Client, seededDb, startInstance, waitFor } from './_helpers.js'

t.test('Redis stopped mid-test: 503 within 1 s, healthz stays 200, recovery after restart', async (t) => {
  const redis = await privateRedis(t, { persist: true })
  if (redis === undefined) return
  const db = await seededDb(t)
  const sess = await startInstance(t, 'redis', db, ['--redis-url', redis.url, '--id', 'r1'])
  const tok = await startInstance(t, 'token-revocable', db, ['--redis-url', redis.url, '--id', 't1'])

  const s = new Client(t, sess.url)
  t.equal((await s.login('user1', 'demo-1')).status, 200)
  const k = new Client(t, tok.url)
  const tokens = (await k.login('user2', 'demo-2')).body
  t.equal((await k.req('GET', '/api/me', { token: tokens.accessToken })).status, 200)

  await redis.stop()

  for (const [name, call] of [
    ['redis: session lookup', () => s.req('GET', '/api/me')],
    ['redis: login (session save)', () => new Client(t, sess.url).login('user3', 'demo-3')],
    ['token-revocable: revocation check', () => k.req('GET', '/api/me', { token: tokens.accessToken })],
    ['token-revocable: refresh', () => k.req('POST', '/auth/refresh', { json: { refreshToken: tokens.refreshToken } })],
  ] as const) {
    const started = Date.now()
    const r = await call()
    const ms = Date.now() - started
    t.equal(r.status, 503, `${name}: 503`)
    t.equal(r.body.error.code, 'ERR_STORE_UNAVAILABLE', `${name}: code`)
    t.ok(ms < 1000, `${name}: answered in ${ms} ms (< 1000)`)
  }
  for (const svc of [sess, tok]) {
    const h = await new Client(t, svc.url).req('GET', '/healthz')
    t.equal(h.status, 200, 'a Redis outage is not an instance failure')
  }
  t.equal((await new Client(t, tok.url).login('user4', 'demo-4')).status, 200, 'token login needs no Redis')

  await redis.restart()
  t.ok(await waitFor(async () => (await s.req('GET', '/api/me')).status === 200, 5000), 'the redis session works again (kept by the AOF)')
  t.ok(await waitFor(async () => (await k.req('GET', '/api/me', { token: tokens.accessToken })).status === 200, 5000), 'token-revocable works again')
})

t.test('SIGTERM drains: healthz 503 at once, other routes served for --drain-ms, then exit 0', async (t) => {
  const db = await seededDb(t)
  const svc = await startInstance(t, 'memory', db, ['--drain-ms', '1500'])
  const c = new Client(t, svc.url)
  t.equal((await c.login('user1', 'demo-1')).status, 200)
  svc.kill('SIGTERM')
  t.ok(await waitFor(async () => (await c.req('GET', '/healthz')).status === 503, 1000), 'healthz turns 503')
  const h = await c.req('GET', '/healthz')
  t.match(h.body, { status: 'draining', id: 's1', strategy: 'memory' })
  const me = await c.req('GET', '/api/me')
  t.equal(me.status, 200, 'pinned users are still served while draining')
  t.equal((await new Client(t, svc.url).login('user2', 'demo-2')).status, 200, 'logins too')
  const { code, signal } = await svc.exited
  t.equal(signal, null)
  t.equal(code, 0, 'exits 0 after the drain')
})

t.test('a server seeds a missing users DB on first use', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionscale-fresh-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const svc = await startInstance(t, 'token', join(dir, 'sub', 'users.db'), ['--seed-users', '5'])
  const c = new Client(t, svc.url)
  t.equal((await c.login('user5', 'demo-5')).status, 200)
  t.equal((await c.login('user6', 'demo-6')).status, 401, 'only 5 users')
  t.equal((await c.login('admin', 'admin-demo')).body.user.role, 'admin')
})
