import t from 'tap'
import { readFileSync } from 'node:fs'
import type { Report } from '../../bench/report-schema.js'
import { renderSummary } from '../../bench/render-terminal.js'

const fixture = (): Report => JSON.parse(readFileSync(new URL('./fixtures/report.json', import.meta.url), 'utf8')) as Report

t.test('plain summary: aligned rows, no escape codes, ASCII target marks', async (t) => {
  const report = fixture()
  const text = renderSummary(report, { color: false })
  t.notMatch(text, '\x1b[')
  const lines = text.split('\n')
  const header = lines.find((l) => l.startsWith('strategy'))!
  for (const h of ['policy', 'conns', 'req/s', 'p50', 'p99', 'non-2xx', 'errors', 're-logins', 'bal', 'inst', 'redis', 'load', 'total', 'flags']) {
    t.match(header, h)
  }
  const rows = lines.slice(lines.indexOf(header) + 1, lines.indexOf(header) + 1 + new Set(report.runs.map((r) => r.key)).size)
  // Right-aligned req/s column: every row ends its req/s cell at the header's column.
  const end = header.indexOf('req/s') + 'req/s'.length
  for (const row of rows) {
    t.match(row.slice(0, end), /[\d%]$/, `req/s cell ends under its header: ${row.slice(0, 30)}`)
    t.equal(row[end], ' ')
  }
  t.match(text, /\[ok\] +redis req\/s vs memory/)
  t.match(text, /\[info\] price of revocation/)
  t.match(text, 'machine-busy')
})

t.test('color summary uses ANSI and check marks without breaking alignment', async (t) => {
  const text = renderSummary(fixture(), { color: true })
  t.match(text, '\x1b[')
  t.match(text, '✓')
  // eslint-disable-next-line no-control-regex
  const stripped = text.replace(/\x1b\[\d+m/g, '')
  const plain = renderSummary(fixture(), { color: false }).split('\n').filter((l) => l.startsWith('memory ')).map((l) => l.slice(0, 60))
  const colored = stripped.split('\n').filter((l) => l.startsWith('memory ')).map((l) => l.slice(0, 60))
  t.same(colored, plain, 'same columns with and without color')
})

t.test('a failed target shows ✗ / FAIL', async (t) => {
  const report = fixture()
  for (const r of report.runs) if (r.strategy === 'redis') r.requests.perSec /= 2
  t.match(renderSummary(report, { color: false }), /\[FAIL\] redis req\/s vs memory/)
  t.match(renderSummary(report, { color: true }), '✗')
})
