import t from 'tap'
import { affinityId, affinitySetCookie, readCookie, signAffinity, verifyAffinity } from '../../balancer/affinity.js'

t.test('sign and verify', async (t) => {
  const v = signAffinity('secret', 's1')
  t.match(v, /^s1\.[A-Za-z0-9_-]{16}$/, 'id, dot, 12-byte base64url mac; no address')
  t.equal(signAffinity('secret', 's1'), v, 'deterministic: same secret + id → same cookie on every balancer')
  t.not(signAffinity('other', 's1'), v, 'depends on the secret')
  t.equal(affinityId(v), 's1')
  t.ok(verifyAffinity(v, signAffinity('secret', 's1')))
  t.notOk(verifyAffinity(v.slice(0, -1) + (v.endsWith('A') ? 'B' : 'A'), v), 'tampered mac')
  t.notOk(verifyAffinity('s2' + v.slice(2), signAffinity('secret', 's2')), 'id swapped keeping the mac')
  t.equal(affinityId('nodot'), undefined)
  t.equal(affinityId('.x'), undefined)
  t.equal(affinityId('x.'), undefined)
})

t.test('readCookie', async (t) => {
  t.equal(readCookie('lb=a.b', 'lb'), 'a.b')
  t.equal(readCookie('koa.sess=xyz; lb=s1.q; other=1', 'lb'), 's1.q')
  t.equal(readCookie('koa.sess=xyz;lb=s2.q', 'lb'), 's2.q')
  t.equal(readCookie('xlb=1; blb=2', 'lb'), undefined, 'no suffix match')
  t.equal(readCookie('a=lb=3', 'lb'), undefined, 'not inside another value')
  t.equal(readCookie('xlb=1; lb=4', 'lb'), '4')
  t.equal(readCookie(undefined, 'lb'), undefined)
  t.equal(readCookie('koa.sess=abc; koa.sess.sig=def', 'koa.sess'), 'abc')
})

t.test('set-cookie attributes', async (t) => {
  t.equal(affinitySetCookie('lb', 'v', false), 'lb=v; Path=/; HttpOnly; SameSite=Lax')
  t.match(affinitySetCookie('lb', 'v', true), /; Secure$/)
})
