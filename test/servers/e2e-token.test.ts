import t, { type Test } from 'tap'
import { TokenSigner } from '../../servers/tokens.js'
import { demoCredentials } from '../../servers/users-db.js'
import { redisUrl } from '../helpers/redis.js'
import { Client, seededDb, startInstance, TEST_SECRET } from './_helpers.js'

const cred = demoCredentials
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')

for (const strategy of ['token', 'token-revocable'] as const) {
  t.test(`${strategy} strategy end to end`, async (t) => {
    const db = await seededDb(t)
    const extra: string[] = []
    if (strategy === 'token-revocable') {
      const url = await redisUrl(t)
      if (url === undefined) return
      extra.push('--redis-url', url)
    }
    const a = await startInstance(t, strategy, db, ['--id', 'a', ...extra])
    const b = await startInstance(t, strategy, db, ['--id', 'b', ...extra])

    const login = async (t: Test, i: number, base = a.url): Promise<any> => {
      const r = await new Client(t, base).login(cred(i).username, cred(i).password)
      t.equal(r.status, 200, `user${i} logs in`)
      return r.body
    }

    t.test('healthz', async (t) => {
      const r = await new Client(t, a.url).req('GET', '/healthz')
      t.same(r.body, { status: 'ok', id: 'a', strategy })
    })

    t.test('login returns a token pair; /api/me with the Bearer token on any instance', async (t) => {
      const body = await login(t, 1)
      t.match(body, { tokenType: 'Bearer', expiresIn: 900, user: { username: 'user1', role: 'user' } })
      t.type(body.accessToken, 'string')
      t.type(body.refreshToken, 'string')
      const payload = JSON.parse(Buffer.from(body.accessToken.split('.')[1], 'base64url').toString())
      t.same(Object.keys(payload).sort(), ['exp', 'iat', 'lang', 'role', 'sub', 'use'], 'no private data in the token')
      for (const base of [a.url, b.url]) {
        const me = await new Client(t, base).req('GET', '/api/me', { token: body.accessToken })
        t.equal(me.status, 200)
        t.same(me.body, { user: body.user, language: 'en', instance: base === a.url ? 'a' : 'b', strategy })
      }
      const none = await new Client(t, a.url).req('GET', '/api/me')
      t.equal(none.status, 401)
      t.equal(none.body.error.code, 'ERR_UNAUTHENTICATED')
    })

    t.test('bad tokens → 401 with distinct codes', async (t) => {
      const body = await login(t, 2)
      const c = new Client(t, a.url)
      const [h, p, s] = body.accessToken.split('.') as [string, string, string]
      const code = async (token: string): Promise<string> => {
        const r = await c.req('GET', '/api/me', { token })
        t.equal(r.status, 401)
        return r.body.error.code
      }
      t.equal(await code('not-a-token'), 'ERR_TOKEN_MALFORMED')
      t.equal(await code(`${b64({ alg: 'none', typ: 'JWT' })}.${p}.`), 'ERR_TOKEN_ALGORITHM', 'alg none')
      t.equal(await code(`${b64({ alg: 'HS512', typ: 'JWT' })}.${p}.${s}`), 'ERR_TOKEN_ALGORITHM', 'another algorithm')
      t.equal(await code(`${h}.${p}.${(s[0] === 'A' ? 'B' : 'A') + s.slice(1)}`), 'ERR_TOKEN_SIGNATURE', 'wrong signature')
      const claims = { sub: body.user.id as number, role: 'admin' as const, lang: 'en', use: 'access' as const }
      t.equal(await code(new TokenSigner({ secret: 'another-secret-key-xyz' }).sign(claims, 900).token), 'ERR_TOKEN_SIGNATURE', 'another key')
      const expired = new TokenSigner({ secret: TEST_SECRET, now: () => Date.now() - 7200_000 }).sign({ ...claims, role: 'user' }, 900).token
      t.equal(await code(expired), 'ERR_TOKEN_EXPIRED', 'expired')
      t.equal(await code(body.refreshToken), 'ERR_TOKEN_TYPE', 'refresh token used as access token')
      const asRefresh = await c.req('POST', '/auth/refresh', { json: { refreshToken: body.accessToken } })
      t.equal(asRefresh.status, 401)
      t.equal(asRefresh.body.error.code, 'ERR_TOKEN_TYPE', 'access token used as refresh token')
    })

    t.test('refresh rotates: the old refresh token is refused', async (t) => {
      const body = await login(t, 3)
      const c = new Client(t, a.url)
      const r = await c.req('POST', '/auth/refresh', { json: { refreshToken: body.refreshToken } })
      t.equal(r.status, 200)
      t.match(r.body, { tokenType: 'Bearer', expiresIn: 900, user: { username: 'user3' } })
      t.not(r.body.refreshToken, body.refreshToken)
      t.equal((await c.req('GET', '/api/me', { token: r.body.accessToken })).status, 200)
      const reuse = await c.req('POST', '/auth/refresh', { json: { refreshToken: body.refreshToken } })
      t.equal(reuse.status, 401)
      t.equal(reuse.body.error.code, 'ERR_TOKEN_REVOKED')
      if (strategy === 'token-revocable') {
        const elsewhere = await new Client(t, b.url).req('POST', '/auth/refresh', { json: { refreshToken: body.refreshToken } })
        t.equal(elsewhere.status, 401, 'the used-token record is shared through Redis')
      }
      const missing = await c.req('POST', '/auth/refresh', { json: {} })
      t.equal(missing.status, 400)
      t.equal(missing.body.error.code, 'ERR_VALIDATION')
    })

    t.test('PUT /api/preferences answers a new access token carrying the language (no CSRF)', async (t) => {
      const body = await login(t, 4)
      const c = new Client(t, a.url)
      const bad = await c.req('PUT', '/api/preferences', { token: body.accessToken, json: { language: 'x'.repeat(40) } })
      t.equal(bad.status, 400)
      t.equal(bad.body.error.code, 'ERR_VALIDATION')
      const r = await c.req('PUT', '/api/preferences', { token: body.accessToken, json: { language: 'fr-CA' } })
      t.equal(r.status, 200)
      t.equal(r.body.language, 'fr-CA')
      t.equal(r.body.expiresIn, 900)
      const me = await c.req('GET', '/api/me', { token: r.body.accessToken })
      t.equal(me.body.language, 'fr-CA')
      t.equal((await c.req('PUT', '/api/preferences', { json: { language: 'en' } })).status, 401)
    })

    t.test('GET /api/admin: admin only', async (t) => {
      const c = new Client(t, a.url)
      t.equal((await c.req('GET', '/api/admin')).status, 401)
      const user = await login(t, 5)
      const r = await c.req('GET', '/api/admin', { token: user.accessToken })
      t.equal(r.status, 403)
      t.equal(r.body.error.code, 'ERR_FORBIDDEN')
      const admin = (await c.login('admin', 'admin-demo')).body
      t.equal((await c.req('GET', '/api/admin', { token: admin.accessToken })).status, 200)
    })

    t.test('logout', async (t) => {
      const body = await login(t, 6)
      const c = new Client(t, a.url)
      t.equal((await c.req('POST', '/auth/logout')).status, 401, 'needs a token')
      const r = await c.req('POST', '/auth/logout', { token: body.accessToken })
      t.equal(r.status, 200)
      t.equal(r.body.loggedOut, true)
      const after = await new Client(t, b.url).req('GET', '/api/me', { token: body.accessToken })
      if (strategy === 'token') {
        t.equal(r.body.revoked, false)
        t.type(r.body.note, 'string')
        t.equal(after.status, 200, 'a stateless token stays valid until it expires')
      } else {
        t.equal(r.body.revoked, true)
        t.equal(after.status, 401, 'revoked on every instance')
        t.equal(after.body.error.code, 'ERR_TOKEN_REVOKED')
        const refresh = await c.req('POST', '/auth/refresh', { json: { refreshToken: body.refreshToken } })
        t.equal(refresh.status, 401, 'the refresh token is revoked too')
        t.equal(refresh.body.error.code, 'ERR_TOKEN_REVOKED')
        t.equal((await login(t, 6)).user.username, 'user6', 'logging in again works')
      }
    })

    t.test('password change: what each token strategy can revoke', async (t) => {
      const { username, password } = cred(7)
      const mine = await login(t, 7)
      const other = await login(t, 7, b.url)
      const c = new Client(t, a.url)
      const wrong = await c.req('POST', '/auth/password', { token: mine.accessToken, json: { currentPassword: 'wrong-one', newPassword: 'new-password-7' } })
      t.equal(wrong.status, 401)
      t.equal(wrong.body.error.code, 'ERR_INVALID_CREDENTIALS')
      const r = await c.req('POST', '/auth/password', { token: mine.accessToken, json: { currentPassword: password, newPassword: 'new-password-7' } })
      t.equal(r.status, 200)
      t.equal(r.body.changed, true)
      const otherMe = await c.req('GET', '/api/me', { token: other.accessToken })
      if (strategy === 'token') {
        t.equal(r.body.revokedOthers, false)
        t.match(r.body.note, /cannot/)
        t.equal(otherMe.status, 200, 'other devices keep their access tokens until expiry')
        t.equal(r.body.refreshTokensRevoked, true)
        const otherRefresh = await c.req('POST', '/auth/refresh', { json: { refreshToken: other.refreshToken } })
        t.equal(otherRefresh.status, 401, 'but their refresh tokens are refused (refresh reads the users DB)')
        t.equal(otherRefresh.body.error.code, 'ERR_TOKEN_REVOKED')
        const oldOwn = await c.req('POST', '/auth/refresh', { json: { refreshToken: mine.refreshToken } })
        t.equal(oldOwn.status, 401, 'the caller\'s old refresh token too')
        t.equal((await c.req('POST', '/auth/refresh', { json: { refreshToken: r.body.refreshToken } })).status, 200, 'the caller got a new pair')
      } else {
        t.equal(r.body.revokedOthers, true)
        t.equal(otherMe.status, 401)
        t.equal(otherMe.body.error.code, 'ERR_TOKEN_REVOKED')
        const otherRefresh = await c.req('POST', '/auth/refresh', { json: { refreshToken: other.refreshToken } })
        t.equal(otherRefresh.body.error?.code, 'ERR_TOKEN_REVOKED', 'other refresh tokens too')
        t.type(r.body.accessToken, 'string', 'the caller gets new tokens')
        t.equal((await c.req('GET', '/api/me', { token: r.body.accessToken })).status, 200)
        t.equal((await c.req('GET', '/api/me', { token: mine.accessToken })).status, 401, 'the old token of the caller is revoked too')
        t.equal((await c.req('POST', '/auth/refresh', { json: { refreshToken: r.body.refreshToken } })).status, 200)
      }
      t.equal((await c.login(username, password)).status, 401, 'old password refused')
      t.equal((await c.login(username, 'new-password-7')).status, 200, 'new password works')
    })
  })
}
