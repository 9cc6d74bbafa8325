import t from 'tap'
import { canHaveRedis } from '../helpers/redis.js'
import { shortFailover } from '../helpers/failover.js'

t.test('kill: memory users pinned to the dead instance lose their session, nobody else does', async (t) => {
  const s = await shortFailover(t, { strategy: 'memory', scenario: 'kill' })
  t.ok(s.usersPinnedToTarget > 0, 'some users were pinned to the killed instance')
  t.ok(Math.abs(s.sessionsLost - s.usersPinnedToTarget) <= 1, `sessions lost (${s.sessionsLost}) = users pinned to it (${s.usersPinnedToTarget}), within a request in flight`)
  t.ok(s.usersMoved <= s.usersPinnedToTarget + 1, 'only its users moved')
  t.equal(s.failedGets, 0, 'no GET failed: the balancer retried them elsewhere')
  t.equal(s.failed.connectionErrors + s.failed.timeouts, 0, 'no connection error reached a user')
  t.ok(s.detectionSec !== null, 'the balancer noticed')
})

for (const strategy of ['redis', 'token', 'token-revocable'] as const) {
  t.test(`kill: ${strategy} users keep their session and see no failure`, async (t) => {
    if (strategy !== 'token' && !canHaveRedis(t)) return
    const s = await shortFailover(t, { strategy, scenario: 'kill' })
    t.ok(s.usersPinnedToTarget > 0, 'some users were on the killed instance')
    t.equal(s.sessionsLost, 0, 'zero sessions lost')
    t.equal(s.failedGets, 0, 'zero failed GETs')
    t.equal(s.failed.total, 0, 'no 5xx, connection error or timeout')
    t.equal(s.preferencesLost, 0, 'preferences kept')
    t.ok(s.usersMoved >= s.usersPinnedToTarget - 1, 'its users moved to another instance')
  })
}
