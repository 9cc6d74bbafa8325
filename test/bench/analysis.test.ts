import t from 'tap'
import { readFileSync } from 'node:fs'
import type { Report } from '../../bench/report-schema.js'
import {
  checkTargets, groupRuns, nearestConnections, non2xx, ratiosByLevel, relativeSpread, stat, winnersByLevel,
} from '../../bench/analysis.js'

const fixture = (): Report => JSON.parse(readFileSync(new URL('./fixtures/report.json', import.meta.url), 'utf8')) as Report

t.test('stat and spread', async (t) => {
  const s = stat([90, 110])
  t.equal(s.mean, 100)
  t.equal(s.min, 90)
  t.equal(s.max, 110)
  t.equal(relativeSpread(s), 0.2)
  t.equal(relativeSpread(stat([100])), 0, 'one run has no measured spread')
})

t.test('groups repeats by key and keeps every run', async (t) => {
  const report = fixture()
  const groups = groupRuns(report.runs)
  t.equal(new Set(report.runs.map((r) => r.key)).size, groups.length, 'one group per key')
  t.equal(groups.reduce((a, g) => a + g.runs.length, 0), report.runs.length, 'no run lost or doubled')
  for (const g of groups) {
    t.ok(g.runs.every((r) => r.key === g.key))
    t.ok(g.reqPerSec.min <= g.reqPerSec.mean && g.reqPerSec.mean <= g.reqPerSec.max)
  }
  t.ok(groups.some((g) => g.runs.length >= 2), 'the fixture has repeats')
  const control = groups.find((g) => g.control)!
  t.ok(control.relogins.mean > 0)
  t.equal(control.non2xx.mean, non2xx(control.runs[0]!))
})

t.test('the winner of each level is the highest mean req/s among non-control runs', async (t) => {
  const groups = groupRuns(fixture().runs)
  const winners = winnersByLevel(groups)
  t.equal(winners.length, 2)
  for (const w of winners) {
    const contenders = groups.filter((g) => !g.control && g.connections === w.level.connections && g.backends === w.level.backends)
    const best = Math.max(...contenders.map((g) => g.reqPerSec.mean))
    t.equal(w.winner.reqPerSec.mean, best)
    t.notOk(w.winner.control)
    t.ok(w.marginPct! > 0)
  }
})

t.test('same-run ratios', async (t) => {
  const groups = groupRuns(fixture().runs)
  const r = ratiosByLevel(groups).find((x) => x.level.connections === 100)!
  const mean = (key: string, f: (g: typeof groups[number]) => number): number => f(groups.find((g) => g.key === key)!)
  t.equal(r.redisOverMemoryReqPerSec, mean('redis/sticky/b2/c100', (g) => g.reqPerSec.mean) / mean('memory/sticky/b2/c100', (g) => g.reqPerSec.mean))
  t.equal(r.revocationCpuUs!.total,
    mean('token-revocable/sticky/b2/c100', (g) => g.cpuUsPerRequest.total.mean) - mean('token/sticky/b2/c100', (g) => g.cpuUsPerRequest.total.mean))
  t.ok(r.redisCommandsPerRequest.redis! > 0)
  t.equal(r.redisCommandsPerRequest.memory, undefined, 'memory uses no Redis')
})

t.test('targets are checked at 100 connections, or the nearest level and say so', async (t) => {
  const report = fixture()
  const targets = checkTargets(groupRuns(report.runs))
  t.same(targets.map((x) => x.id), ['redis-throughput', 'token-instance-cpu', 'revocation-price'])
  for (const x of targets) {
    t.equal(x.level!.connections, 100)
    t.equal(x.nearest, false)
  }
  t.equal(targets[0]!.pass, true)
  t.equal(targets[1]!.pass, true)
  t.equal(targets[2]!.pass, null, 'the price of revocation is reported, not judged')

  const only10 = report.runs.filter((r) => r.connections === 10)
  const t10 = checkTargets(groupRuns(only10))
  t.equal(t10[0]!.level!.connections, 10)
  t.equal(t10[0]!.nearest, true)
  t.match(t10[0]!.note, /nearest measured level/)

  // Make redis slow: the throughput target fails.
  const slow = report.runs.map((r) => (r.strategy === 'redis' ? { ...r, requests: { ...r.requests, perSec: r.requests.perSec * 0.5 } } : r))
  t.equal(checkTargets(groupRuns(slow))[0]!.pass, false)

  const noRedis = report.runs.filter((r) => r.strategy !== 'redis')
  const missing = checkTargets(groupRuns(noRedis))[0]!
  t.equal(missing.value, null)
  t.equal(missing.pass, null)
  t.equal(nearestConnections([], 100), undefined)
})
