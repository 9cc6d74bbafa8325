/**
 * The summary printed at the end of `sessionscale bench`: one aligned row per
 * key (repeats averaged), then the target lines. Pure: returns the text.
 */
import type { Report } from './report-schema.js'
import {
  type RunGroup, type TargetCheck, checkTargets, fmtInt, fmtMs, fmtUs, groupRuns, winnersByLevel, withSpread,
} from './analysis.js'
import { targetValue } from './render-markdown.js'

export interface SummaryOptions {
  /** ANSI colors and ✓/✗ marks; false gives plain ASCII marks, safe for logs and pipes. */
  color: boolean
}

type Paint = 'bold' | 'dim' | 'red' | 'green' | 'yellow'
const ANSI: Record<Paint, string> = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33' }

interface Cell { text: string, paint?: Paint }

interface Column { header: string, align: 'l' | 'r', cell: (g: RunGroup) => Cell }

const plain = (text: string): Cell => ({ text })
const warnIfAny = (n: number): Cell => ({ text: fmtInt(n), paint: n > 0 ? 'red' : undefined })

function columns (winners: Set<string>): Column[] {
  return [
    { header: 'strategy', align: 'l', cell: (g) => plain(g.strategy) },
    { header: 'policy', align: 'l', cell: (g) => plain(g.policy + (g.control ? '*' : '')) },
    { header: 'b', align: 'r', cell: (g) => plain(String(g.backends)) },
    { header: 'conns', align: 'r', cell: (g) => plain(String(g.connections)) },
    { header: 'req/s', align: 'r', cell: (g) => ({ text: withSpread(g.reqPerSec), paint: winners.has(g.key) ? 'bold' : undefined }) },
    { header: 'p50', align: 'r', cell: (g) => plain(fmtMs(g.p50.mean)) },
    { header: 'p99', align: 'r', cell: (g) => plain(fmtMs(g.p99.mean)) },
    // 401s are the point of the control runs; elsewhere any non-2xx is worth a look.
    { header: 'non-2xx', align: 'r', cell: (g) => (g.control ? plain(fmtInt(g.non2xx.mean)) : warnIfAny(g.non2xx.mean)) },
    { header: 'errors', align: 'r', cell: (g) => warnIfAny(g.errors.mean + g.timeouts.mean) },
    { header: 're-logins', align: 'r', cell: (g) => (g.control ? plain(fmtInt(g.relogins.mean)) : warnIfAny(g.relogins.mean)) },
    { header: 'bal', align: 'r', cell: (g) => plain(fmtUs(g.cpuUsPerRequest.balancer.mean)) },
    { header: 'inst', align: 'r', cell: (g) => plain(fmtUs(g.cpuUsPerRequest.instances.mean)) },
    { header: 'redis', align: 'r', cell: (g) => plain(fmtUs(g.cpuUsPerRequest.redis.mean)) },
    { header: 'load', align: 'r', cell: (g) => plain(fmtUs(g.cpuUsPerRequest.load.mean)) },
    { header: 'total', align: 'r', cell: (g) => ({ text: fmtUs(g.cpuUsPerRequest.total.mean), paint: 'bold' }) },
    { header: 'flags', align: 'l', cell: (g) => ({ text: g.flags.join(',') || '-', paint: g.flags.length > 0 ? 'yellow' : 'dim' }) },
  ]
}

/** Index of the first CPU column, for the "CPU µs/request" header above it. */
const FIRST_CPU_COLUMN = 10
const CPU_COLUMNS = 5

export function renderSummary (report: Report, options: SummaryOptions): string {
  const paint = (c: Cell): string => (options.color && c.paint !== undefined ? `\x1b[${ANSI[c.paint]}m${c.text}\x1b[0m` : c.text)
  const groups = groupRuns(report.runs)
  const winners = new Set(winnersByLevel(groups).map((w) => w.winner.key))
  const cols = columns(winners)
  const body = groups.map((g) => cols.map((c) => c.cell(g)))
  const widths = cols.map((c, i) => Math.max(c.header.length, ...body.map((row) => row[i]!.text.length)))
  const pad = (c: Cell, i: number): string => {
    // Pad the visible text, then paint, so escape codes never disturb alignment.
    const w = widths[i]!
    const text = cols[i]!.align === 'r' ? c.text.padStart(w) : c.text.padEnd(w)
    return paint({ ...c, text })
  }
  const line = (cells: Cell[]): string => cells.map(pad).join('  ').trimEnd()

  const cpuStart = widths.slice(0, FIRST_CPU_COLUMN).reduce((a, w) => a + w + 2, 0)
  const cpuWidth = widths.slice(FIRST_CPU_COLUMN, FIRST_CPU_COLUMN + CPU_COLUMNS).reduce((a, w) => a + w + 2, -2)
  const over = 'CPU µs/request'
  const out: string[] = [
    paint({ text: `${' '.repeat(cpuStart)}${over.padStart(Math.floor((cpuWidth + over.length) / 2)).padEnd(cpuWidth)}`.trimEnd(), paint: 'dim' }),
    line(cols.map((c) => ({ text: c.header, paint: 'dim' }))),
    ...body.map(line),
  ]
  const notes: string[] = []
  if (groups.some((g) => g.control)) notes.push('* control run: memory sessions without stickiness, re-logins expected')
  if (groups.some((g) => g.runs.length > 1)) notes.push('± half the min..max range of repeated runs')
  if (winners.size > 0) notes.push(options.color ? 'bold req/s: most at that traffic level' : '')
  const shown = notes.filter((n) => n !== '')
  if (shown.length > 0) out.push(paint({ text: shown.join('; '), paint: 'dim' }))
  out.push('', ...checkTargets(groups).map((t) => targetLine(t, options, paint)))
  return out.join('\n') + '\n'
}

function targetLine (t: TargetCheck, options: SummaryOptions, paint: (c: Cell) => string): string {
  const mark = options.color
    ? t.pass === null ? paint({ text: 'ℹ', paint: 'dim' }) : t.pass ? paint({ text: '✓', paint: 'green' }) : paint({ text: '✗', paint: 'red' })
    : t.pass === null ? '[info]' : t.pass ? '[ok]  ' : '[FAIL]'
  const wanted = t.pass === null && t.value !== null ? '' : ` (target ${t.target})`
  return `${mark} ${t.name}: ${targetValue(t)}${wanted} — ${t.note}`
}
