/**
 * `report.html`: one self-contained file (inline CSS and SVG, no script, no
 * external URL) that opens offline. It shows the same findings and tables as
 * report.md (both come from `buildDocument`) plus three charts drawn here.
 * Every piece of text from the report goes through `esc`.
 */
import type { Policy, Report, Strategy } from './report-schema.js'
import { type RunGroup, COMPONENTS, type Component, fmtInt, fmtMs, fmtUs, groupLabel, groupRuns, levelsOf } from './analysis.js'
import { type Table, buildDocument, targetMark, targetValue } from './render-markdown.js'

export function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
const STRATEGY_COLOR: Record<Strategy, string> = { memory: '#0072B2', redis: '#D55E00', token: '#009E73', 'token-revocable': '#CC79A7' }
const POLICY_DASH: Record<Policy, string> = { sticky: '', 'round-robin': '7 4', 'least-conn': '2 3', hash: '9 3 2 3' }
const COMPONENT_COLOR: Record<Component, string> = { balancer: '#E69F00', instances: '#56B4E9', redis: '#B2182B', load: '#8C8C8C' }
const POLICY_SHORT: Record<Policy, string> = { sticky: 'sticky', 'round-robin': 'rr', 'least-conn': 'lc', hash: 'hash' }
const MARKERS = ['circle', 'square', 'triangle', 'diamond'] as const

/** Round numbers for axis ticks: 1, 2 or 5 × 10^k, about `count` of them from 0. */
export function niceTicks (max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1]
  const raw = max / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag
  const ticks: number[] = []
  for (let v = 0; v < max + step / 2 && ticks.length < 50; v += step) ticks.push(Number(v.toPrecision(12)))
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks.length * step).toPrecision(12)))
  return ticks
}

const n = (v: number): string => (Math.round(v * 10) / 10).toString()

function marker (shape: typeof MARKERS[number], x: number, y: number, color: string, tip: string): string {
  const t = `<title>${esc(tip)}</title>`
  const fill = `fill="${color}" stroke="#fff" stroke-width="1"`
  if (shape === 'circle') return `<circle cx="${n(x)}" cy="${n(y)}" r="4.5" ${fill}>${t}</circle>`
  if (shape === 'square') return `<rect x="${n(x - 4)}" y="${n(y - 4)}" width="8" height="8" ${fill}>${t}</rect>`
  const pts = shape === 'triangle'
    ? [[x, y - 5.5], [x + 5, y + 4], [x - 5, y + 4]]
    : [[x, y - 6], [x + 5.5, y], [x, y + 6], [x - 5.5, y]]
  return `<polygon points="${pts.map(([a, b]) => `${n(a!)},${n(b!)}`).join(' ')}" ${fill}>${t}</polygon>`
}

interface Series {
  label: string
  color: string
  dash: string
  shape: typeof MARKERS[number]
  points: Array<{ x: number, y: number, lo: number, hi: number }>
}

interface LineChart { id: string, title: string, xLabel: string, yLabel: string, xs: number[], series: Series[], fmt: (v: number) => string }

const W = 780
const FONT = 'font-family="system-ui, sans-serif" font-size="12"'

/** A line chart over the measured connection counts, evenly spaced, with min..max bars for repeats. */
function lineChart (c: LineChart): string {
  // About 7 px per character at 12 px: long labels get two legend columns instead of three.
  const perRow = Math.max(0, ...c.series.map((s) => s.label.length)) > 26 ? 2 : 3
  const legendH = 20 * Math.ceil(c.series.length / perRow)
  const m = { top: 16 + legendH, right: 20, bottom: 48, left: 72 }
  const H = 300 + legendH
  const pw = W - m.left - m.right
  const ph = H - m.top - m.bottom
  const ticks = niceTicks(Math.max(0, ...c.series.flatMap((s) => s.points.map((p) => p.hi))))
  const yMax = ticks[ticks.length - 1]!
  const xAt = (x: number): number => m.left + pw * (c.xs.indexOf(x) + 0.5) / c.xs.length
  const yAt = (v: number): number => m.top + ph - (v / yMax) * ph
  const out: string[] = []
  for (const t of ticks) {
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${n(yAt(t))}" y2="${n(yAt(t))}" stroke="#e3e3e3"/>`)
    out.push(`<text x="${m.left - 8}" y="${n(yAt(t) + 4)}" text-anchor="end">${esc(c.fmt(t))}</text>`)
  }
  for (const x of c.xs) {
    out.push(`<line x1="${n(xAt(x))}" x2="${n(xAt(x))}" y1="${m.top + ph}" y2="${m.top + ph + 5}" stroke="#555"/>`)
    out.push(`<text x="${n(xAt(x))}" y="${m.top + ph + 19}" text-anchor="middle">${esc(String(x))}</text>`)
  }
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" stroke="#555"/>`)
  out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#555"/>`)
  out.push(`<text x="${m.left + pw / 2}" y="${H - 8}" text-anchor="middle" font-weight="600">${esc(c.xLabel)}</text>`)
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-weight="600">${esc(c.yLabel)}</text>`)
  for (const s of c.series) {
    const pts = [...s.points].sort((a, b) => c.xs.indexOf(a.x) - c.xs.indexOf(b.x))
    const dash = s.dash === '' ? '' : ` stroke-dasharray="${s.dash}"`
    if (pts.length > 1) {
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.map((p) => `${n(xAt(p.x))},${n(yAt(p.y))}`).join(' ')}"/>`)
    }
    for (const p of pts) {
      if (p.hi > p.lo) {
        const x = xAt(p.x)
        out.push(`<path d="M${n(x)} ${n(yAt(p.lo))}V${n(yAt(p.hi))}M${n(x - 4)} ${n(yAt(p.lo))}h8M${n(x - 4)} ${n(yAt(p.hi))}h8" stroke="${s.color}" stroke-width="1.2"/>`)
      }
      const range = p.hi > p.lo ? ` (repeats ${c.fmt(p.lo)}..${c.fmt(p.hi)})` : ''
      out.push(marker(s.shape, xAt(p.x), yAt(p.y), s.color, `${s.label}, ${p.x} connections: ${c.fmt(p.y)}${range}`))
    }
  }
  c.series.forEach((s, i) => {
    const x = m.left + (i % perRow) * (pw / perRow)
    const y = 14 + 20 * Math.floor(i / perRow)
    const dash = s.dash === '' ? '' : ` stroke-dasharray="${s.dash}"`
    out.push(`<line x1="${n(x)}" x2="${n(x + 28)}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"${dash}/>`)
    out.push(marker(s.shape, x + 14, y, s.color, s.label))
    out.push(`<text x="${n(x + 36)}" y="${y + 4}">${esc(s.label)}</text>`)
  })
  return svg(c.id, c.title, W, H, out)
}

function svg (id: string, title: string, w: number, h: number, body: string[]): string {
  return `<svg id="${esc(id)}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-labelledby="${esc(id)}-t" ${FONT} fill="#222">` +
    `<title id="${esc(id)}-t">${esc(title)}</title>${body.join('')}</svg>`
}

/** One series per strategy/policy (per backend count too when there are several). */
function seriesOf (groups: RunGroup[], pick: (g: RunGroup) => { mean: number, min: number, max: number }): Series[] {
  const backends = [...new Set(groups.map((g) => g.backends))].sort((a, b) => a - b)
  const byName = new Map<string, Series>()
  for (const g of groups) {
    const label = groupLabel(g) + (backends.length > 1 ? `, ${g.backends} backends` : '')
    let s = byName.get(label)
    if (s === undefined) {
      s = {
        label,
        color: STRATEGY_COLOR[g.strategy],
        dash: g.control && g.policy === 'sticky' ? '7 4' : POLICY_DASH[g.policy],
        shape: MARKERS[backends.indexOf(g.backends) % MARKERS.length]!,
        points: [],
      }
      byName.set(label, s)
    }
    const v = pick(g)
    s.points.push({ x: g.connections, y: v.mean, lo: v.min, hi: v.max })
  }
  return [...byName.values()]
}

/** CPU µs per request, one stacked bar per run, bars grouped by traffic level. */
function cpuChart (groups: RunGroup[]): string {
  const levels = levelsOf(groups)
  const manyBackends = new Set(levels.map((l) => l.backends)).size > 1
  const gap = 10
  const levelGap = 40
  const m = { top: 40, right: 20, bottom: 130, left: 72 }
  const perLevel = levels.map((l) => groups.filter((g) => g.backends === l.backends && g.connections === l.connections))
  const bars = perLevel.reduce((a, b) => a + b.length, 0)
  // Bars widen to fill the chart, up to 64 px; past ~14 bars the chart grows wider and the page scrolls.
  const fit = (W - m.left - m.right - levels.length * levelGap) / Math.max(1, bars) - gap
  const barW = Math.max(26, Math.min(64, fit))
  const w = Math.max(W, m.left + m.right + levels.length * levelGap + bars * (barW + gap))
  if (manyBackends) m.bottom += 14
  const h = 300 + m.bottom
  const ph = h - m.top - m.bottom
  const ticks = niceTicks(Math.max(0, ...groups.map((g) => COMPONENTS.reduce((a, c) => a + g.cpuUsPerRequest[c].mean, 0))))
  const yMax = ticks[ticks.length - 1]!
  const yAt = (v: number): number => m.top + ph - (v / yMax) * ph
  const out: string[] = []
  for (const t of ticks) {
    out.push(`<line x1="${m.left}" x2="${w - m.right}" y1="${n(yAt(t))}" y2="${n(yAt(t))}" stroke="#e3e3e3"/>`)
    out.push(`<text x="${m.left - 8}" y="${n(yAt(t) + 4)}" text-anchor="end">${esc(fmtInt(t))}</text>`)
  }
  let x = m.left + levelGap / 2
  perLevel.forEach((bars, li) => {
    const start = x
    for (const g of bars) {
      let base = 0
      for (const c of COMPONENTS) {
        const v = g.cpuUsPerRequest[c].mean
        if (v > 0) {
          out.push(`<rect x="${n(x)}" y="${n(yAt(base + v))}" width="${barW}" height="${n(yAt(base) - yAt(base + v))}" fill="${COMPONENT_COLOR[c]}">` +
            `<title>${esc(`${groupLabel(g)}, ${g.connections} connections — ${c}: ${fmtUs(v)} µs`)}</title></rect>`)
        }
        base += v
      }
      out.push(`<text x="${n(x + barW / 2)}" y="${n(yAt(base) - 5)}" text-anchor="middle" font-size="11">${esc(fmtUs(base))}</text>`)
      const label = g.strategy + (g.policy === 'sticky' ? '' : ` ${POLICY_SHORT[g.policy]}`) + (g.control ? ' (control)' : '')
      out.push(`<text transform="translate(${n(x + barW / 2 + 4)} ${m.top + ph + 12}) rotate(-40)" text-anchor="end" font-size="11">${esc(label)}</text>`)
      x += barW + gap
    }
    const l = levels[li]!
    const mid = (start + x - gap) / 2
    // Backends on a line of their own, so narrow groups' labels do not run into each other.
    const labelY = manyBackends ? h - 26 : h - 12
    out.push(`<text x="${n(mid)}" y="${labelY}" text-anchor="middle" font-weight="600">${esc(`${l.connections} connections`)}</text>`)
    if (manyBackends) out.push(`<text x="${n(mid)}" y="${h - 10}" text-anchor="middle">${esc(`${l.backends} backends`)}</text>`)
    out.push(`<line x1="${n(start - 4)}" x2="${n(x - gap + 4)}" y1="${labelY - 18}" y2="${labelY - 18}" stroke="#999"/>`)
    x += levelGap - gap
  })
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" stroke="#555"/>`)
  out.push(`<line x1="${m.left}" x2="${w - m.right}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#555"/>`)
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-weight="600">CPU µs per request</text>`)
  COMPONENTS.forEach((c, i) => {
    const lx = m.left + i * 130
    out.push(`<rect x="${lx}" y="8" width="14" height="14" fill="${COMPONENT_COLOR[c]}"/><text x="${lx + 20}" y="19">${esc(c)}</text>`)
  })
  return svg('chart-cpu', 'CPU time per request by component, per run and traffic level', w, h, out)
}

function htmlTable (t: Pick<Table, 'headers' | 'align' | 'rows'>): string {
  const cls = (i: number): string => (t.align[i] === 'r' ? ' class="num"' : '')
  return `<div class="scroll"><table><thead><tr>${t.headers.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${t.rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${esc(c)}</td>`).join('')}</tr>`).join('\n')}</tbody></table></div>`
}

const CSS = `
:root{color-scheme:light}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;background:#fff;max-width:1120px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:.2em 0 .6em}h2{font-size:1.25em;margin:1.8em 0 .4em;border-bottom:1px solid #ddd;padding-bottom:.2em}
dl.about{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}dl.about dt{font-weight:600;color:#555}dl.about dd{margin:0}
p.findings{font-size:1.05em;background:#f5f8fb;border-left:4px solid #0072B2;padding:12px 16px}
.caption{color:#555;margin:.2em 0 .6em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;border-bottom:1px solid #e6e6e6;text-align:left;white-space:nowrap}
th{background:#f3f3f3;font-weight:600}td.num,th.num{text-align:right}tbody tr:nth-child(even){background:#fafafa}
figure{margin:16px 0}figure svg{max-width:100%;height:auto;display:block}figcaption{color:#555;font-size:.9em}
.pass{color:#1a7f37;font-weight:700}.fail{color:#c62828;font-weight:700}.info{color:#555}
`

export function renderHtml (report: Report): string {
  const doc = buildDocument(report)
  const groups = groupRuns(report.runs)
  const xs = [...new Set(groups.map((g) => g.connections))].sort((a, b) => a - b)
  const tpsChart = lineChart({
    id: 'chart-throughput', title: 'Requests per second vs connections', xLabel: 'connections (measured levels)', yLabel: 'requests per second',
    xs, series: seriesOf(groups, (g) => g.reqPerSec), fmt: fmtInt,
  })
  const p99Chart = lineChart({
    id: 'chart-p99', title: 'p99 latency vs connections', xLabel: 'connections (measured levels)', yLabel: 'p99 latency, ms',
    xs, series: seriesOf(groups, (g) => g.p99), fmt: fmtMs,
  })
  const figure = (svgText: string, caption: string): string => `<figure>${svgText}<figcaption>${esc(caption)}</figcaption></figure>`
  const mark = (p: boolean | null): string => (p === null ? 'info' : p ? 'pass' : 'fail')
  const body: string[] = [
    `<h1>${esc(doc.title)}</h1>`,
    `<dl class="about">${doc.about.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`,
    '<h2>What this shows</h2>',
    `<p class="findings">${esc(doc.findings.join(' '))}</p>`,
    '<h2>Charts</h2>',
    groups.length === 0 ? '<p>No runs to chart.</p>' : [
      figure(tpsChart, 'Mean over repeats; vertical bars span the min..max of repeated runs. Dashed lines are the memory + round-robin controls. Absolute req/s depends on the machine.'),
      figure(p99Chart, `p99 of all responses. Latency precision: ${report.config.latencyPrecision}.`),
      figure(cpuChart(groups), 'User + system CPU of each component divided by the responses served: the figure to trust on a small shared machine.'),
    ].join('\n'),
  ]
  for (const t of doc.tables) {
    body.push(`<h2>${esc(t.title)}</h2>`, `<p class="caption">${esc(t.caption)}</p>`)
    if (t.rows.length > 0) body.push(htmlTable(t))
  }
  body.push('<h2>Targets</h2>')
  body.push(doc.targets.length === 0
    ? '<p>No target could be checked.</p>'
    : `<ul>${doc.targets.map((t) => `<li><span class="${mark(t.pass)}">${esc(targetMark(t))}</span> ${esc(t.name)}: <strong>${esc(targetValue(t))}</strong>` +
      ` (wanted ${esc(t.target)}) — ${esc(t.note)}</li>`).join('')}</ul>`)
  body.push('<h2>Flags</h2>')
  if (doc.flagged.length === 0) body.push('<p>No run was flagged.</p>')
  else {
    body.push(htmlTable({ headers: ['run', 'repeat', 'flags'], align: ['l', 'r', 'l'], rows: doc.flagged.map((f) => [f.key, String(f.repeat), f.flags.join(', ')]) }))
    body.push(`<dl class="about">${doc.flagMeanings.map(([f, why]) => `<dt>${esc(f)}</dt><dd>${esc(why)}</dd>`).join('')}</dl>`)
  }
  if (doc.notes.length > 0) body.push('<h2>Notes</h2>', `<ul>${doc.notes.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`)
  body.push('<h2>How to read this report</h2>', `<ul>${doc.howToRead.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`)
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${esc(doc.title)}</title><style>${CSS}</style></head>\n<body>\n${body.join('\n')}\n</body></html>\n`
}
