import t from 'tap'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { Report } from '../../bench/report-schema.js'
import { esc, niceTicks, renderHtml } from '../../bench/render-html.js'
import { writeReport } from '../../bench/write-report.js'

const fixture = (): Report => JSON.parse(readFileSync(new URL('./fixtures/report.json', import.meta.url), 'utf8')) as Report

t.test('report.html is self-contained: no script, no external reference', async (t) => {
  const html = renderHtml(fixture())
  t.match(html, /^<!doctype html>/)
  t.notMatch(html, /<script/i, 'no script at all, external or inline')
  t.notMatch(html, /https?:\/\//i, 'no URL anywhere')
  t.notMatch(html, /\b(src|href)\s*=/i, 'nothing loaded from elsewhere')
  t.notMatch(html, /@import|url\(/i, 'CSS loads nothing')
  t.match(html, /<style>/)
})

t.test('three charts, with axes, ticks and legends', async (t) => {
  const html = renderHtml(fixture())
  const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? []
  t.equal(svgs.length, 3)
  for (const id of ['chart-throughput', 'chart-p99', 'chart-cpu']) t.match(html, `<svg id="${id}"`)
  const [tps, p99, cpu] = svgs as [string, string, string]
  t.match(tps, 'requests per second')
  t.match(tps, 'connections')
  t.match(p99, 'p99 latency, ms')
  for (const s of ['memory/sticky', 'redis/sticky', 'token/sticky', 'token-revocable/sticky', 'memory/round-robin (control)']) {
    t.match(tps, `>${s}</text>`, `legend: ${s}`)
  }
  for (const c of ['balancer', 'instances', 'redis', 'load']) t.match(cpu, `>${c}</text>`, `legend: ${c}`)
  t.match(cpu, 'CPU µs per request')
  t.equal((cpu.match(/<text [^>]*>100 connections<\/text>/g) ?? []).length, 1, 'one group per traffic level')
  // Every number drawn is finite.
  t.notMatch(html, /NaN|Infinity/)
})

t.test('the same tables and findings as the Markdown', async (t) => {
  const report = fixture()
  const html = renderHtml(report)
  for (const title of ['What this shows', 'Throughput and latency', 'Same-run comparisons', 'Targets', 'Flags', 'How to read this report']) {
    t.match(html, `<h2>${title}</h2>`)
  }
  t.equal((html.match(/<table>/g) ?? []).length, 6, '5 report tables + flags')
  for (const s of report.config.strategies) t.match(html, `<td>${s}</td>`)
})

t.test('text from the report is escaped', async (t) => {
  const report = fixture()
  report.runs[0]!.flags.push('<img src=x onerror=alert(1)>')
  const html = renderHtml(report)
  t.notMatch(html, '<script>alert')
  t.match(html, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;')
  t.notMatch(html, '<img')
  t.equal(esc(`<a href='x'>&</a>`), '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;')
})

t.test('an empty or single-level report still renders', async (t) => {
  const report = fixture()
  t.notMatch(renderHtml({ ...report, runs: [] }), /NaN/)
  const one = renderHtml({ ...report, runs: report.runs.filter((r) => r.connections === 10 && r.repeat === 0) })
  t.equal((one.match(/<svg/g) ?? []).length, 3)
  t.notMatch(one, /NaN|Infinity/)
})

t.test('axis ticks are round numbers covering the data', async (t) => {
  t.same(niceTicks(3757), [0, 1000, 2000, 3000, 4000])
  t.same(niceTicks(71), [0, 20, 40, 60, 80])
  t.same(niceTicks(0), [0, 1])
})

t.test('writeReport writes the three files', async (t) => {
  const dir = t.testdir({})
  const report = fixture()
  const paths = await writeReport(report, `${dir}/nested/2025-06-01T10-15-00-000Z`)
  t.same(JSON.parse(await readFile(paths.json, 'utf8')), report, 'report.json is exactly the Report')
  t.match(await readFile(paths.md, 'utf8'), /^# sessionscale report/)
  t.match(await readFile(paths.html, 'utf8'), /<svg id="chart-cpu"/)
  t.match(paths.html, /report\.html$/)
})
