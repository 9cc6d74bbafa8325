import t from 'tap'
import { Backend, Pool } from '../../balancer/pool.js'
import { HashRing, boundedCapacity, consistentHash, hash32 } from '../../balancer/policies/hash.js'
import { pickContext } from '../../balancer/policies/policy.js'

const backends = (n: number, from = 1): Backend[] => Array.from({ length: n }, (_, i) => new Backend(`s${i + from}`, `http://127.0.0.1:${5000 + i + from}`, 'k'))
const keys = Array.from({ length: 10_000 }, (_, i) => `session-${i}-${hash32(String(i))}`)
const all = (): boolean => true

function assign (ring: HashRing): Map<string, string> {
  return new Map(keys.map((k) => [k, ring.lookup(k, all)!.id]))
}

t.test('spread: every backend owns roughly 1/N of the keys', async (t) => {
  const ring = new HashRing(backends(5), 160)
  const counts = new Map<string, number>()
  for (const id of assign(ring).values()) counts.set(id, (counts.get(id) ?? 0) + 1)
  for (const [id, n] of counts) t.ok(n > 2000 * 0.75 && n < 2000 * 1.25, `${id} owns ${n} of 10000`)
})

t.test('adding or removing one of N backends moves about 1/N of the keys', async (t) => {
  const five = backends(5)
  const before = assign(new HashRing(five, 160))
  const afterAdd = assign(new HashRing([...five, ...backends(1, 6)], 160))
  const movedAdd = keys.filter((k) => before.get(k) !== afterAdd.get(k))
  t.ok(movedAdd.every((k) => afterAdd.get(k) === 's6'), 'keys only move to the new backend')
  t.ok(movedAdd.length > 10_000 / 6 * 0.7 && movedAdd.length < 10_000 / 6 * 1.3, `add moved ${movedAdd.length} (~${Math.round(10_000 / 6)})`)

  const afterRemove = assign(new HashRing(five.filter((b) => b.id !== 's3'), 160))
  const movedRemove = keys.filter((k) => before.get(k) !== afterRemove.get(k))
  t.ok(movedRemove.every((k) => before.get(k) === 's3'), 'only the removed backend\'s keys move')
  t.ok(movedRemove.length > 2000 * 0.75 && movedRemove.length < 2000 * 1.25, `remove moved ${movedRemove.length} (~2000)`)
})

t.test('a down backend only moves its own keys (ring kept, skipped on lookup)', async (t) => {
  const five = backends(5)
  const ring = new HashRing(five, 160)
  const before = assign(ring)
  const skip = new Map(keys.map((k) => [k, ring.lookup(k, (b) => b.id !== 's2')!.id]))
  t.ok(keys.every((k) => before.get(k) === 's2' || skip.get(k) === before.get(k)))
})

t.test('bounded load: no backend above ceil(1.25 × share) of in-flight requests', async (t) => {
  const p = new Pool({ secret: 'k', healthInterval: 1000, healthFastInterval: 200, healthTimeout: 1000, healthPath: '/healthz', rise: 2, fall: 2, fall5xx: 10 })
  for (let i = 1; i <= 4; i++) p.add(`s${i}`, `http://127.0.0.1:${6000 + i}`)
  const policy = consistentHash({ cookieName: 'koa.sess', vnodes: 160, loadFactor: 1.25 })
  // Skewed traffic: 400 in-flight requests, all from only 3 sessions.
  for (let i = 0; i < 400; i++) {
    const b = policy.pick(pickContext({ headers: { cookie: `koa.sess=hot-${i % 3}` } }), p)!
    b.inFlight++
    const total = p.totalInFlight()
    const cap = boundedCapacity(total - 1, 4, 1.25)
    t.ok(b.inFlight <= cap, `after ${total}: ${b.id} holds ${b.inFlight} <= ${cap}`, { diagnostic: false })
  }
  const max = Math.max(...p.backends.map((b) => b.inFlight))
  t.ok(max <= Math.ceil(1.25 * 400 / 4), `max in flight ${max} <= ${Math.ceil(1.25 * 400 / 4)}`)
  t.equal(boundedCapacity(0, 4, 1.25), 1)
})

t.test('key choice: session cookie, then Authorization, then address; same key same backend', async (t) => {
  const p = new Pool({ secret: 'k', healthInterval: 1000, healthFastInterval: 200, healthTimeout: 1000, healthPath: '/healthz', rise: 2, fall: 2, fall5xx: 10 })
  for (let i = 1; i <= 8; i++) p.add(`s${i}`, `http://127.0.0.1:${7000 + i}`)
  const policy = consistentHash({ cookieName: 'koa.sess', vnodes: 160, loadFactor: 1.25 })
  const pick = (headers: Record<string, string>, addr = '10.0.0.1') => policy.pick(pickContext({ headers, remoteAddress: addr }), p)!.id
  t.equal(pick({ cookie: 'koa.sess=abc' }, '1.1.1.1'), pick({ cookie: 'koa.sess=abc' }, '2.2.2.2'), 'cookie wins over address')
  t.equal(pick({ authorization: 'Bearer x' }, '1.1.1.1'), pick({ authorization: 'Bearer x' }, '2.2.2.2'), 'authorization wins over address')
  const spread = new Set(Array.from({ length: 200 }, (_, i) => pick({}, `10.0.${i}.1`)))
  t.ok(spread.size >= 6, 'addresses spread')
})
