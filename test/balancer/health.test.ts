import t from 'tap'
import { applyCheck, initialHealth, isTransitioning, markDownPassive } from '../../balancer/health.js'
import { Pool, backendIdFromUrl, type BackendEvent } from '../../balancer/pool.js'

const cfg = { rise: 2, fall: 2 }

t.test('rise and fall', async (t) => {
  const h = initialHealth()
  t.equal(h.health, 'up')
  t.notOk(applyCheck(h, 'fail', cfg))
  t.ok(isTransitioning(h), 'one bad check: check faster')
  t.notOk(applyCheck(h, 'ok', cfg), 'a good check resets the fail run')
  t.notOk(isTransitioning(h))
  applyCheck(h, 'fail', cfg)
  t.ok(applyCheck(h, 'fail', cfg), 'fall=2 bad checks: down')
  t.equal(h.health, 'down')
  t.notOk(applyCheck(h, 'ok', cfg))
  t.ok(isTransitioning(h))
  t.ok(applyCheck(h, 'ok', cfg), 'rise=2 good checks: up')
  t.equal(h.health, 'up')
  t.ok(markDownPassive(h), 'passive failure: down at once')
  t.notOk(markDownPassive(h))
  t.ok(applyCheck(h, 'draining', cfg), 'draining answer flips selfDrain')
  t.ok(h.selfDrain)
  t.ok(applyCheck(h, 'ok', cfg))
  t.equal(h.health, 'up')
  t.notOk(h.selfDrain)
})

t.test('pool states and events', async (t) => {
  const pool = new Pool({ secret: 'k', healthInterval: 1000, healthFastInterval: 200, healthTimeout: 1000, healthPath: '/healthz', rise: 2, fall: 2, fall5xx: 3 })
  const events: string[] = []
  for (const e of ['backend:up', 'backend:down', 'backend:draining']) pool.on(e, (ev: BackendEvent) => events.push(`${e} ${ev.id} ${ev.previous}`))
  const b = pool.add('s1', 'http://127.0.0.1:4001/')
  t.equal(b.url, 'http://127.0.0.1:4001')
  pool.drain('s1')
  t.equal(b.state, 'draining')
  pool.applyCheck(b, 'fail')
  pool.applyCheck(b, 'fail')
  t.equal(b.state, 'down', 'down wins over draining')
  pool.applyCheck(b, 'ok')
  pool.applyCheck(b, 'ok')
  t.equal(b.state, 'draining', 'back alive but still drained by the operator')
  pool.enable('s1')
  t.equal(b.state, 'up')
  pool.noteStatus(b, 500)
  pool.noteStatus(b, 502)
  pool.noteStatus(b, 200)
  pool.noteStatus(b, 500)
  pool.noteStatus(b, 500)
  t.equal(b.state, 'up', 'a 2xx breaks the 5xx run')
  pool.noteStatus(b, 503)
  t.equal(b.state, 'down', 'fall5xx consecutive 5xx: down')
  t.same(events, ['backend:draining s1 up', 'backend:down s1 draining', 'backend:draining s1 down', 'backend:up s1 draining', 'backend:down s1 up'])
  t.throws(() => pool.add('s1', 'http://127.0.0.1:4002'), { code: 'ERR_CONFLICT' })
  t.throws(() => pool.add('s2', 'ftp://x'), { code: 'ERR_BAD_REQUEST' })
  t.throws(() => pool.drain('nope'), { code: 'ERR_NOT_FOUND' })
})

t.test('ids derived from a bare URL are stable', async (t) => {
  t.equal(backendIdFromUrl('http://127.0.0.1:4001'), backendIdFromUrl('http://127.0.0.1:4001/'))
  t.match(backendIdFromUrl('http://127.0.0.1:4001'), /^b[0-9a-f]{8}$/)
  t.not(backendIdFromUrl('http://127.0.0.1:4001'), backendIdFromUrl('http://127.0.0.1:4002'))
})
