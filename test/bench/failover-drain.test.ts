import t from 'tap'
import { canHaveRedis } from '../helpers/redis.js'
import { shortFailover } from '../helpers/failover.js'

for (const strategy of ['memory', 'redis', 'token', 'token-revocable'] as const) {
  t.test(`drain: ${strategy} sees no 5xx and no connection error`, async (t) => {
    if ((strategy === 'redis' || strategy === 'token-revocable') && !canHaveRedis(t)) return
    const s = await shortFailover(t, { strategy, scenario: 'drain' })
    t.equal(s.failed.fivexx, 0, 'zero 5xx')
    t.equal(s.failed.connectionErrors, 0, 'zero connection errors')
    t.equal(s.failed.timeouts, 0, 'zero timeouts')
    t.ok(s.events.some((e) => /marks s3 draining/.test(e.text)), 'the balancer saw s3 draining')
    if (strategy === 'memory') {
      t.ok(s.usersPinnedToTarget > 0, 'users were pinned to the drained instance')
      t.ok(Math.abs(s.sessionsLost - s.usersPinnedToTarget) <= 1, `only its users lost their sessions, once it exited (${s.sessionsLost} of ${s.usersPinnedToTarget})`)
      const exited = s.events.find((e) => /exited after draining/.test(e.text))
      t.ok(exited, 'it exited after draining')
    } else {
      t.equal(s.sessionsLost, 0, 'zero sessions lost')
    }
  })
}
