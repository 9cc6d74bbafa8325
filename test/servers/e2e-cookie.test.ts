import t from 'tap'
import { demoCredentials } from '../../servers/users-db.js'
import { redisUrl } from '../helpers/redis.js'
import { Client, seededDb, startInstance } from './_helpers.js'

// Each subtest uses its own demo users so password changes and throttling never collide.
const cred = demoCredentials

for (const strategy of ['memory', 'redis'] as const) {
  t.test(`${strategy} strategy end to end`, async (t) => {
    const db = await seededDb(t)
    const extra: string[] = []
    if (strategy === 'redis') {
      const url = await redisUrl(t)
      if (url === undefined) return
      extra.push('--redis-url', url)
    }
    const a = await startInstance(t, strategy, db, ['--id', 'a', ...extra])
    const b = await startInstance(t, strategy, db, ['--id', 'b', ...extra])

    t.test('healthz and the listening line', async (t) => {
      t.match(a.info, { event: 'listening', service: 'server', id: 'a', strategy, pid: a.pid })
      t.match(a.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const c = new Client(t, a.url)
      const r = await c.req('GET', '/healthz')
      t.equal(r.status, 200)
      t.same(r.body, { status: 'ok', id: 'a', strategy })
      t.equal(r.headers.get('x-instance-id'), 'a')
    })

    t.test('login sets a signed HttpOnly SameSite=Lax cookie; /api/me; logout; replay → 401', async (t) => {
      const c = new Client(t, a.url)
      const anon = await c.req('GET', '/api/me')
      t.equal(anon.status, 401)
      t.equal(anon.body.error.code, 'ERR_UNAUTHENTICATED')
      t.equal(anon.headers.get('x-instance-id'), 'a', 'errors carry x-instance-id too')
      t.equal(anon.headers.get('set-cookie'), null, 'no session created for an anonymous request')

      const { username, password } = cred(1)
      const res = await fetch(`${a.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })
      t.equal(res.status, 200)
      const cookies = res.headers.getSetCookie()
      const sid = cookies.find((x) => x.startsWith('sid='))!
      t.ok(sid, 'session cookie')
      t.ok(cookies.some((x) => x.startsWith('sid.sig=')), 'signed')
      t.match(sid.toLowerCase(), /httponly/)
      t.match(sid.toLowerCase(), /samesite=lax/)
      const body = await res.json() as any
      t.match(body, { user: { username: 'user1', role: 'user' } })
      t.type(body.user.id, 'number')
      t.type(body.csrfToken, 'string')
      t.notOk('passwordHash' in body.user)

      for (const x of cookies) { const [pair] = x.split(';'); const i = pair!.indexOf('='); c.cookies.set(pair!.slice(0, i), pair!.slice(i + 1)) }
      const me = await c.req('GET', '/api/me')
      t.equal(me.status, 200)
      t.same(me.body, { user: body.user, language: 'en', instance: 'a', strategy })
      t.equal(me.headers.get('set-cookie'), null, 'the hot path writes no cookie')

      const saved = new Map(c.cookies)
      const out = await c.req('POST', '/auth/logout')
      t.equal(out.status, 200)
      t.equal(c.cookies.has('sid'), false, 'cookie cleared')
      c.cookies.clear()
      for (const [k, v] of saved) c.cookies.set(k, v)
      const replay = await c.req('GET', '/api/me')
      t.equal(replay.status, 401, 'a cookie replayed after logout is refused')
      t.equal(replay.body.error.code, 'ERR_UNAUTHENTICATED')
    })

    t.test('the session id changes at login (no fixation)', async (t) => {
      const c = new Client(t, a.url)
      await c.login(cred(2).username, cred(2).password)
      const first = c.cookies.get('sid')
      const old = new Map(c.cookies)
      const again = await c.login(cred(2).username, cred(2).password)
      t.equal(again.status, 200)
      t.ok(c.cookies.get('sid'))
      t.not(c.cookies.get('sid'), first, 'a new id, even when logging in with a session')
      t.equal((await c.req('GET', '/api/me')).status, 200)
      const stale = new Client(t, a.url)
      for (const [k, v] of old) stale.cookies.set(k, v)
      t.equal((await stale.req('GET', '/api/me')).status, 401, 'the previous session was destroyed')
    })

    t.test('tampered and unsigned cookies → 401 and no new session', async (t) => {
      const c = new Client(t, a.url)
      await c.login(cred(3).username, cred(3).password)
      const sid = c.cookies.get('sid')!
      const tampered = new Client(t, a.url)
      tampered.cookies.set('sid', sid.slice(0, -1) + (sid.endsWith('a') ? 'b' : 'a'))
      tampered.cookies.set('sid.sig', c.cookies.get('sid.sig')!)
      const r1 = await fetch(`${a.url}/api/me`, { headers: { cookie: tampered.cookieHeader() } })
      t.equal(r1.status, 401, 'tampered id')
      t.notOk(r1.headers.getSetCookie().some((x) => /^sid=[^;]+/.test(x)), 'no Set-Cookie of a new session')
      t.equal(((await r1.json()) as any).error.code, 'ERR_UNAUTHENTICATED')
      const r2 = await fetch(`${a.url}/api/me`, { headers: { cookie: `sid=${sid}` } })
      t.equal(r2.status, 401, 'valid id without its signature')
      t.notOk(r2.headers.getSetCookie().some((x) => /^sid=[^;]+/.test(x)), 'no Set-Cookie of a new session')
      const r3 = await fetch(`${a.url}/api/me`, { headers: { cookie: `sid=${sid}; sid.sig=${c.cookies.get('sid.sig')!.slice(1)}x` } })
      t.equal(r3.status, 401, 'wrong signature')
    })

    t.test('PUT /api/preferences needs the CSRF token and stores the language in the session', async (t) => {
      const c = new Client(t, a.url)
      const login = await c.login(cred(4).username, cred(4).password)
      const csrf = login.body.csrfToken as string
      const none = await c.req('PUT', '/api/preferences', { json: { language: 'fr-CA' } })
      t.equal(none.status, 403)
      t.equal(none.body.error.code, 'ERR_CSRF')
      const wrong = await c.req('PUT', '/api/preferences', { json: { language: 'fr-CA' }, headers: { 'x-csrf-token': csrf.slice(1) + 'x' } })
      t.equal(wrong.status, 403)
      t.equal(wrong.body.error.code, 'ERR_CSRF')
      const bad = await c.req('PUT', '/api/preferences', { json: { language: 'not a language!' }, headers: { 'x-csrf-token': csrf } })
      t.equal(bad.status, 400)
      t.equal(bad.body.error.code, 'ERR_VALIDATION')
      const ok = await c.req('PUT', '/api/preferences', { json: { language: 'fr-CA' }, headers: { 'x-csrf-token': csrf } })
      t.equal(ok.status, 200)
      t.same(ok.body, { language: 'fr-CA' })
      t.equal((await c.req('GET', '/api/me')).body.language, 'fr-CA')
      const anon = await new Client(t, a.url).req('PUT', '/api/preferences', { json: { language: 'en' } })
      t.equal(anon.status, 401)
    })

    t.test('GET /api/admin: admin only', async (t) => {
      t.equal((await new Client(t, a.url).req('GET', '/api/admin')).status, 401, 'not logged in')
      const u = new Client(t, a.url)
      await u.login(cred(5).username, cred(5).password)
      const r = await u.req('GET', '/api/admin')
      t.equal(r.status, 403)
      t.equal(r.body.error.code, 'ERR_FORBIDDEN')
      const admin = new Client(t, a.url)
      t.equal((await admin.login('admin', 'admin-demo')).body.user.role, 'admin')
      const ok = await admin.req('GET', '/api/admin')
      t.equal(ok.status, 200)
      t.match(ok.body, { user: { username: 'admin', role: 'admin' } })
    })

    t.test('POST /auth/refresh is not for cookie sessions', async (t) => {
      const r = await new Client(t, a.url).req('POST', '/auth/refresh', { json: { refreshToken: 'x' } })
      t.equal(r.status, 400)
      t.equal(r.body.error.code, 'ERR_NOT_SUPPORTED')
    })

    t.test(strategy === 'memory' ? 'a memory session is unknown to another instance' : 'a redis session is valid on another instance', async (t) => {
      const c = new Client(t, a.url)
      await c.login(cred(6).username, cred(6).password)
      c.base = b.url
      const r = await c.req('GET', '/api/me')
      t.equal(r.headers.get('x-instance-id'), 'b')
      if (strategy === 'memory') {
        t.equal(r.status, 401)
        t.equal(r.body.error.code, 'ERR_UNAUTHENTICATED')
      } else {
        t.equal(r.status, 200)
        t.equal(r.body.instance, 'b')
        t.equal(r.body.user.username, 'user6')
      }
    })

    t.test('password change revokes the other sessions the strategy can reach', async (t) => {
      const { username, password } = cred(7)
      const me = new Client(t, a.url)
      const other = new Client(t, a.url)
      const elsewhere = new Client(t, b.url)
      await me.login(username, password)
      await other.login(username, password)
      await elsewhere.login(username, password)
      const wrong = await me.req('POST', '/auth/password', { json: { currentPassword: 'nope-nope', newPassword: 'new-password-7' } })
      t.equal(wrong.status, 401)
      t.equal(wrong.body.error.code, 'ERR_INVALID_CREDENTIALS')
      const short = await me.req('POST', '/auth/password', { json: { currentPassword: password, newPassword: 'short' } })
      t.equal(short.status, 400)
      t.equal(short.body.error.code, 'ERR_VALIDATION')
      const r = await me.req('POST', '/auth/password', { json: { currentPassword: password, newPassword: 'new-password-7' } })
      t.equal(r.status, 200)
      t.equal(r.body.changed, true)
      t.equal(r.body.revokedOthers, true)
      t.equal((await me.req('GET', '/api/me')).status, 200, 'the caller stays logged in')
      t.equal((await other.req('GET', '/api/me')).status, 401, 'another session on this instance is revoked')
      if (strategy === 'memory') {
        t.equal(r.body.scope, 'instance')
        t.type(r.body.note, 'string')
        t.equal((await elsewhere.req('GET', '/api/me')).status, 200, 'memory cannot reach sessions on other instances')
      } else {
        t.equal(r.body.scope, 'all')
        t.equal((await elsewhere.req('GET', '/api/me')).status, 401, 'redis revokes sessions on every instance')
      }
      t.equal((await new Client(t, a.url).login(username, password)).status, 401, 'old password refused')
      t.equal((await new Client(t, a.url).login(username, 'new-password-7')).status, 200, 'new password works')
    })
  })
}
