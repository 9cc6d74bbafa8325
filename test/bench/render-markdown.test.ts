import t from 'tap'
import { readFileSync } from 'node:fs'
import type { Report } from '../../bench/report-schema.js'
import { fmtInt } from '../../bench/analysis.js'
import { findings, renderMarkdown } from '../../bench/render-markdown.js'

const fixture = (): Report => JSON.parse(readFileSync(new URL('./fixtures/report.json', import.meta.url), 'utf8')) as Report

/** Winner per connection count computed here, independently of bench/analysis.ts. */
function winners (report: Report): Map<number, { strategy: string, perSec: number }> {
  const sums = new Map<string, { strategy: string, connections: number, total: number, n: number }>()
  for (const r of report.runs.filter((r) => !r.control)) {
    const s = sums.get(r.key) ?? { strategy: r.strategy, connections: r.connections, total: 0, n: 0 }
    s.total += r.requests.perSec
    s.n++
    sums.set(r.key, s)
  }
  const out = new Map<number, { strategy: string, perSec: number }>()
  for (const s of sums.values()) {
    const mean = s.total / s.n
    if ((out.get(s.connections)?.perSec ?? -1) < mean) out.set(s.connections, { strategy: s.strategy, perSec: mean })
  }
  return out
}

function section (md: string, title: string): string {
  const start = md.indexOf(`## ${title}\n`)
  if (start < 0) return ''
  const end = md.indexOf('\n## ', start + 4)
  return md.slice(start, end < 0 ? undefined : end)
}

t.test('report.md has the sections, every strategy and the tables', async (t) => {
  const report = fixture()
  const md = renderMarkdown(report)
  for (const title of ['What this shows', 'Throughput and latency', 'CPU time per request, µs, by component',
    'Memory: peak RSS by component, and memory per 1,000 sessions', 'Redis commands per request', 'Same-run comparisons',
    'Targets', 'Flags', 'How to read this report']) {
    t.not(section(md, title), '', `has "${title}"`)
  }
  for (const s of report.config.strategies) t.match(section(md, 'Throughput and latency'), `| ${s} |`)
  const rows = section(md, 'Throughput and latency').split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| strategy'))
  t.equal(rows.length, new Set(report.runs.map((r) => r.key)).size, 'one table row per key')
  t.match(md, `N=${report.config.scrypt.N}, r=${report.config.scrypt.r}, p=${report.config.scrypt.p}`, 'scrypt cost')
  t.match(md, report.config.latencyPrecision)
  t.match(md, report.machine.cpuModel)
  t.match(section(md, 'Flags'), 'machine-busy')
  t.match(section(md, 'Targets'), '✓')
})

t.test('the generated paragraph names the winner computed from the data', async (t) => {
  const report = fixture()
  const text = section(renderMarkdown(report), 'What this shows')
  for (const [connections, w] of winners(report)) {
    t.match(text, `${fmtInt(w.perSec)} req/s at ${connections} connections`, `${w.strategy} at ${connections}`)
  }
  t.match(text, /The token strategy serves the most requests at every traffic level/)
  t.match(text, /the balancer takes \d+(–\d+)?% of the CPU per request/)
  t.match(text, /sessions were lost/)
  t.match(text, /price of revocation/)
  t.match(text, /1 of \d+ runs was flagged/)

  // Change the data: memory now wins at 10 connections, token still at 100.
  const changed = fixture()
  for (const r of changed.runs) if (r.key === 'memory/sticky/b2/c10') r.requests.perSec = 9000
  const w = winners(changed)
  t.equal(w.get(10)!.strategy, 'memory')
  const p = findings(changed).join(' ')
  t.match(p, 'At 10 connections, memory serves the most requests: 9,000 req/s')
  t.match(p, `At 100 connections, ${w.get(100)!.strategy} serves the most requests`)
})

t.test('the paragraph says what was not measured or not flagged', async (t) => {
  const report = fixture()
  report.config.controls = false
  report.runs = report.runs.filter((r) => !r.control).map((r) => ({ ...r, flags: [] }))
  const p = findings(report).join(' ')
  t.match(p, 'No memory + round-robin control was run')
  t.match(p, 'No run was flagged.')
  t.same(findings({ ...report, runs: [] }), ['The report holds no runs.'])
  t.type(renderMarkdown({ ...report, runs: [] }), 'string', 'an empty report still renders')
})

t.test('text from the report is escaped', async (t) => {
  const md = renderMarkdown(fixture())
  t.notMatch(md, '<script>')
  t.match(md, '&lt;script&gt;')
})
