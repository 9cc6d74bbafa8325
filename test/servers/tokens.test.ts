import t from 'tap'
import { TokenError } from '../../servers/errors.js'
import { bearerToken, TokenSigner } from '../../servers/tokens.js'

const secret = 'unit-test-secret-1234'
const signer = new TokenSigner({ secret })
const claims = { sub: 7, role: 'user' as const, lang: 'en', use: 'access' as const }

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')

function code (fn: () => unknown): string | undefined {
  try { fn(); return undefined } catch (err) { return err instanceof TokenError ? err.code : `not a TokenError: ${String(err)}` }
}

t.test('a signed access token verifies and carries only the allowed claims', async (t) => {
  const { token } = signer.sign(claims, 900)
  const c = signer.verify(token, 'access')
  t.equal(c.sub, 7)
  t.equal(c.role, 'user')
  t.equal(c.lang, 'en')
  t.equal(c.use, 'access')
  t.same(Object.keys(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).sort(), ['exp', 'iat', 'lang', 'role', 'sub', 'use'])
  t.same(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' })
})

t.test('refresh tokens get a unique jti', async (t) => {
  const a = signer.sign({ ...claims, use: 'refresh' }, 60).claims
  const b = signer.sign({ ...claims, use: 'refresh' }, 60).claims
  t.type(a.jti, 'string')
  t.not(a.jti, b.jti)
})

t.test('each failure has its own code', async (t) => {
  const { token } = signer.sign(claims, 900)
  const [h, p, s] = token.split('.') as [string, string, string]
  t.equal(code(() => signer.verify('abc', 'access')), 'ERR_TOKEN_MALFORMED', 'not three parts')
  t.equal(code(() => signer.verify(`!!.${p}.${s}`, 'access')), 'ERR_TOKEN_MALFORMED', 'header not JSON')
  t.equal(code(() => signer.verify(`${b64({ alg: 'none', typ: 'JWT' })}.${p}.`, 'access')), 'ERR_TOKEN_ALGORITHM', 'alg none')
  t.equal(code(() => signer.verify(`${b64({ alg: 'HS512', typ: 'JWT' })}.${p}.${s}`, 'access')), 'ERR_TOKEN_ALGORITHM', 'HS512')
  t.equal(code(() => signer.verify(`${b64({ typ: 'JWT' })}.${p}.${s}`, 'access')), 'ERR_TOKEN_ALGORITHM', 'no alg')
  const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1)
  t.equal(code(() => signer.verify(`${h}.${p}.${flipped}`, 'access')), 'ERR_TOKEN_SIGNATURE', 'changed signature')
  const last = s.at(-1)!
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const twin = alphabet[alphabet.indexOf(last) ^ 1]!
  t.equal(code(() => signer.verify(`${h}.${p}.${s.slice(0, -1)}${twin}`, 'access')), 'ERR_TOKEN_SIGNATURE', 'a non-canonical encoding of the same bytes')
  t.equal(code(() => signer.verify(`${h}.${p}.${s}=`, 'access')), 'ERR_TOKEN_SIGNATURE', 'padding added')
  t.equal(code(() => signer.verify(`${h}.${b64({ ...claims, role: 'admin', iat: 1, exp: 9e9 })}.${s}`, 'access')), 'ERR_TOKEN_SIGNATURE', 'changed payload')
  const other = new TokenSigner({ secret: 'another-secret-5678' }).sign(claims, 900).token
  t.equal(code(() => signer.verify(other, 'access')), 'ERR_TOKEN_SIGNATURE', 'another key')
  const past = new TokenSigner({ secret, now: () => Date.now() - 3600_000 }).sign(claims, 900).token
  t.equal(code(() => signer.verify(past, 'access')), 'ERR_TOKEN_EXPIRED', 'expired')
  const refresh = signer.sign({ ...claims, use: 'refresh' }, 900).token
  t.equal(code(() => signer.verify(refresh, 'access')), 'ERR_TOKEN_TYPE', 'refresh used as access')
  t.equal(code(() => signer.verify(token, 'refresh')), 'ERR_TOKEN_TYPE', 'access used as refresh')
  t.equal(code(() => signer.verify(token, 'access')), undefined, 'the original still verifies')
})

t.test('token errors are 401s', async (t) => {
  const e = new TokenError('ERR_TOKEN_EXPIRED')
  t.equal(e.status, 401)
  t.equal(e.code, 'ERR_TOKEN_EXPIRED')
})

t.test('secret is checked when the signer is built', async (t) => {
  t.throws(() => new TokenSigner({ secret: 'short' }), /secret/)
})

t.test('bearerToken reads the Authorization header', async (t) => {
  t.equal(bearerToken('Bearer a.b.c'), 'a.b.c')
  t.equal(bearerToken('bearer a.b.c'), 'a.b.c')
  t.equal(bearerToken('Basic dXNlcjpwYXNz'), undefined)
  t.equal(bearerToken(undefined), undefined)
  t.equal(bearerToken('Bearer '), undefined)
})
