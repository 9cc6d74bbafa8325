import t from 'tap'
import { Pool } from '../../balancer/pool.js'
import { pickContext } from '../../balancer/policies/policy.js'
import { sticky } from '../../balancer/policies/sticky.js'
import { roundRobin } from '../../balancer/policies/round-robin.js'
import { leastConn } from '../../balancer/policies/least-conn.js'
import { signAffinity } from '../../balancer/affinity.js'

const SECRET = 'unit-secret'
function pool (n: number): Pool {
  const p = new Pool({ secret: SECRET, healthInterval: 1000, healthFastInterval: 200, healthTimeout: 1000, healthPath: '/healthz', rise: 2, fall: 2, fall5xx: 10 })
  for (let i = 1; i <= n; i++) p.add(`s${i}`, `http://127.0.0.1:${4000 + i}`)
  return p
}

t.test('round-robin cycles over up backends and skips down and tried ones', async (t) => {
  const p = pool(3)
  const rr = roundRobin()
  t.same([1, 2, 3, 4].map(() => rr.pick(pickContext(), p)?.id), ['s1', 's2', 's3', 's1'])
  p.markDown(p.get('s2')!, 'test')
  t.same([1, 2, 3].map(() => rr.pick(pickContext(), p)?.id), ['s3', 's1', 's3'])
  t.equal(rr.pick(pickContext({ tried: [p.get('s1')!, p.get('s3')!] }), p), undefined)
  p.drain('s3')
  t.equal(rr.pick(pickContext({ tried: [p.get('s1')!] }), p), undefined, 'draining takes no new requests')
})

t.test('least-conn picks the fewest in flight', async (t) => {
  const p = pool(3)
  p.get('s1')!.inFlight = 5
  p.get('s2')!.inFlight = 1
  p.get('s3')!.inFlight = 3
  const lc = leastConn()
  t.equal(lc.pick(pickContext(), p)?.id, 's2')
  t.equal(lc.pick(pickContext({ tried: [p.get('s2')!] }), p)?.id, 's3')
  p.get('s2')!.inFlight = 3
  const ids = new Set([1, 2, 3, 4].map(() => lc.pick(pickContext(), p)?.id))
  t.same([...ids].sort(), ['s2', 's3'], 'ties rotate')
})

t.test('sticky: valid cookie keeps, bad cookie rebounds, draining keeps pinned users', async (t) => {
  const p = pool(3)
  const st = sticky({ cookieName: 'lb' })
  const cookie = (v: string) => ({ cookie: `koa.sess=abc; lb=${v}` })

  const fresh = pickContext()
  const first = st.pick(fresh, p)!
  t.equal(fresh.affinity, 'new')

  const kept = pickContext({ headers: cookie(signAffinity(SECRET, 's2')) })
  t.equal(st.pick(kept, p)?.id, 's2')
  t.equal(kept.affinity, 'kept')

  const tampered = pickContext({ headers: cookie('s2.AAAAAAAAAAAAAAAA') })
  t.ok(st.pick(tampered, p))
  t.equal(tampered.affinity, 'rebound')
  t.equal(tampered.reboundReason, 'tampered')
  t.equal(tampered.reboundFrom, 's2')

  const unknown = pickContext({ headers: cookie(signAffinity(SECRET, 's9')) })
  st.pick(unknown, p)
  t.equal(unknown.reboundReason, 'unknown')

  const otherSecret = pickContext({ headers: cookie(signAffinity('other', 's2')) })
  st.pick(otherSecret, p)
  t.equal(otherSecret.reboundReason, 'tampered')

  p.drain('s2')
  const drained = pickContext({ headers: cookie(signAffinity(SECRET, 's2')) })
  t.equal(st.pick(drained, p)?.id, 's2', 'pinned user stays on a draining backend')
  for (let i = 0; i < 20; i++) t.not(st.pick(pickContext(), p)?.id, 's2', 'no new user goes to a draining backend')

  p.markDown(p.get('s2')!, 'test')
  const down = pickContext({ headers: cookie(signAffinity(SECRET, 's2')) })
  const to = st.pick(down, p)!
  t.not(to.id, 's2')
  t.equal(down.reboundReason, 'down')

  const retry = pickContext({ headers: cookie(signAffinity(SECRET, 's1')), tried: [p.get('s1')!] })
  t.equal(st.pick(retry, p)?.id, 's3')
  t.equal(retry.reboundReason, 'retry')
  t.ok(first)
})

t.test('sticky: two pools with the same secret route cookies identically', async (t) => {
  const a = pool(4)
  const b = pool(4)
  const sa = sticky({ cookieName: 'lb' })
  const sb = sticky({ cookieName: 'lb' })
  for (const id of ['s1', 's2', 's3', 's4']) {
    const h = { cookie: `lb=${a.get(id)!.cookie}` }
    t.equal(sa.pick(pickContext({ headers: h }), a)?.id, id)
    t.equal(sb.pick(pickContext({ headers: h }), b)?.id, id)
  }
})
