import t from 'tap'
import { canHaveRedis } from '../helpers/redis.js'
import { shortFailover } from '../helpers/failover.js'

t.test('redis-restart without persistence: every redis session is lost, requests fail fast meanwhile', async (t) => {
  if (!canHaveRedis(t)) return
  const s = await shortFailover(t, { strategy: 'redis', scenario: 'redis-restart' })
  t.equal(s.sessionsLost, s.connections, 'every user had to log in again')
  t.ok(s.unavailable503 > 0, 'requests got 503 while Redis was down')
  t.equal(s.failed.timeouts, 0, 'no request hung until the client timeout')
  t.ok(s.latencyMs.max < 1000, `every answer came within 1 s (max ${s.latencyMs.max} ms)`)
})

t.test('redis-restart with an append-only file: no redis session is lost', async (t) => {
  if (!canHaveRedis(t)) return
  const s = await shortFailover(t, { strategy: 'redis', scenario: 'redis-restart', redisPersist: true })
  t.equal(s.sessionsLost, 0, 'zero sessions lost')
  t.ok(s.unavailable503 > 0, 'requests got 503 while Redis was down')
  t.ok(s.latencyMs.max < 1000, `every answer came within 1 s (max ${s.latencyMs.max} ms)`)
})

for (const strategy of ['memory', 'token'] as const) {
  t.test(`balancer-restart: ${strategy} users keep their instance`, async (t) => {
    const s = await shortFailover(t, { strategy, scenario: 'balancer-restart' })
    t.equal(s.usersMoved, 0, 'zero re-pins: every user stayed on its instance')
    t.equal(s.balancer.rebounds, 0, 'the new balancer read every affinity cookie')
    t.equal(s.sessionsLost, 0, 'zero sessions lost')
  })
}
