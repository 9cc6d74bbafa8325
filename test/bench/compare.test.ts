import t from 'tap'
import { readFileSync } from 'node:fs'
import type { Report } from '../../bench/report-schema.js'
import { compareReports, DEFAULT_NOISE_BAND, renderComparison } from '../../bench/compare.js'

const fixture = (): Report => JSON.parse(readFileSync(new URL('./fixtures/report.json', import.meta.url), 'utf8')) as Report

function scale (report: Report, key: string, f: number): void {
  for (const r of report.runs) if (r.key === key) r.requests.perSec *= f
}

t.test('identical reports: every change is noise', async (t) => {
  const c = compareReports(fixture(), fixture())
  t.equal(c.rows.length, new Set(fixture().runs.map((r) => r.key)).size)
  t.ok(c.rows.every((r) => [r.reqPerSec, r.p99Ms, r.cpuTotalUs, r.cpuInstancesUs].every((m) => m.verdict === 'noise')))
  t.same(c.added, [])
  t.same(c.removed, [])
  t.same(c.differences, [])
})

t.test('small change inside the repeat spread is noise, a large one is not', async (t) => {
  const a = fixture()
  const b = fixture()
  // memory/sticky/b2/c100 has 2 repeats about 2% apart.
  scale(b, 'memory/sticky/b2/c100', 1.01)
  scale(b, 'token/sticky/b2/c100', 0.7)
  const c = compareReports(a, b)
  const mem = c.rows.find((r) => r.key === 'memory/sticky/b2/c100')!
  t.equal(mem.reqPerSec.bandSource, 'repeats')
  t.ok(mem.reqPerSec.band > 0.01)
  t.equal(mem.reqPerSec.verdict, 'noise')
  const tok = c.rows.find((r) => r.key === 'token/sticky/b2/c100')!
  t.equal(tok.reqPerSec.verdict, 'worse')
  t.ok(Math.abs(tok.reqPerSec.relative! + 0.3) < 1e-9)
})

t.test('keys without repeats use the default ±5% band, and the output says so', async (t) => {
  const a = fixture()
  const b = fixture()
  scale(b, 'token/sticky/b2/c10', 1.04)
  scale(b, 'redis/sticky/b2/c10', 1.06)
  const c = compareReports(a, b)
  const small = c.rows.find((r) => r.key === 'token/sticky/b2/c10')!.reqPerSec
  const big = c.rows.find((r) => r.key === 'redis/sticky/b2/c10')!.reqPerSec
  t.equal(small.bandSource, 'default')
  t.equal(small.band, DEFAULT_NOISE_BAND)
  t.equal(small.verdict, 'noise')
  t.equal(big.verdict, 'better')
  t.ok(c.defaultBandUsed)
  t.match(renderComparison(c), /default band of ±5%/)
})

t.test('p99 and CPU: lower is better, 1 ms of p99 is rounding', async (t) => {
  const a = fixture()
  const b = fixture()
  for (const r of b.runs) {
    if (r.key === 'token-revocable/sticky/b2/c10') { r.latencyMs.p99 += 1; r.cpuUsPerRequest.total *= 1.5 }
    if (r.key === 'token-revocable/sticky/b2/c100') r.latencyMs.p99 *= 2
  }
  const c = compareReports(a, b)
  const c10 = c.rows.find((r) => r.key === 'token-revocable/sticky/b2/c10')!
  t.equal(c10.p99Ms.verdict, 'noise')
  t.equal(c10.cpuTotalUs.verdict, 'worse')
  t.equal(c.rows.find((r) => r.key === 'token-revocable/sticky/b2/c100')!.p99Ms.verdict, 'worse')
})

t.test('added and removed keys, config differences', async (t) => {
  const a = fixture()
  const b = fixture()
  b.runs = b.runs.filter((r) => r.key !== 'redis/sticky/b2/c10')
  b.runs.push({ ...b.runs[0]!, key: 'memory/hash/b2/c10', policy: 'hash' })
  b.config.durationSec = 30
  b.config.connections = [10, 100, 200]
  const c = compareReports(a, b)
  t.same(c.removed, ['redis/sticky/b2/c10'])
  t.same(c.added, ['memory/hash/b2/c10'])
  t.same(c.differences.map((d) => d.field), ['config.connections', 'config.durationSec'])
  const text = renderComparison(c, { a: 'a.json', b: 'b.json' })
  t.match(text, 'warning: config.durationSec differs: A 10, B 30')
  t.match(text, 'removed (only in A): redis/sticky/b2/c10')
  t.match(text, 'added (only in B): memory/hash/b2/c10')
})
