import type { FailoverEvent, FailoverFrame, FailoverSummary } from './failover.js'

/** Renders the live failover view and its summary; plain strings, no I/O. */

const STATE_COLOR: Record<string, string> = { up: '\x1b[32m', down: '\x1b[31m', draining: '\x1b[33m', unknown: '\x1b[90m' }
const RESET = '\x1b[0m'

function fivexx (status: Record<string, number>): number {
  return Object.entries(status).filter(([s]) => s.startsWith('5')).reduce((a, [, n]) => a + n, 0)
}

function fmtSec (s: number): string {
  return `${s.toFixed(2)}s`
}

export interface ViewOptions {
  color: boolean
  /** Terminal width for the bars. */
  width: number
  title: string
}

/** The full screen of one live frame (TTY): instances, totals, recent events. */
export function renderFrame (frame: FailoverFrame, events: FailoverEvent[], o: ViewOptions): string {
  const ids = Object.keys(frame.states)
  const maxRate = Math.max(1, ...Object.values(frame.rateByInstance))
  const barWidth = Math.max(10, Math.min(40, o.width - 50))
  const k = frame.counters
  const lines: string[] = []
  lines.push(`${o.title}   t=${fmtSec(frame.elapsedSec)}`)
  lines.push('')
  lines.push(`  instance  state      req/s  ${'load'.padEnd(barWidth)}  pinned users`)
  for (const id of ids) {
    const state = frame.states[id] ?? 'unknown'
    const rate = frame.rateByInstance[id] ?? 0
    const filled = Math.round((rate / maxRate) * barWidth)
    const bar = '█'.repeat(filled) + '·'.repeat(barWidth - filled)
    const stateText = state.padEnd(9)
    lines.push(`  ${id.padEnd(8)}  ${o.color ? `${STATE_COLOR[state] ?? ''}${stateText}${RESET}` : stateText}  ${String(rate).padStart(5)}  ${bar}  ${String(frame.pinnedByInstance[id] ?? 0).padStart(5)}`)
  }
  lines.push('')
  lines.push(`  total ${frame.rate} req/s   p99 ${frame.latencyP99Ms.toFixed(1)} ms   2xx ${k.ok + k.logins}   re-logins ${k.relogins}`)
  lines.push(`  401 (sessions lost) ${k.status['401'] ?? 0}   5xx ${fivexx(k.status)}   conn errors ${k.errors}   timeouts ${k.timeouts}`)
  lines.push('')
  lines.push('  events')
  for (const e of events.slice(-8)) lines.push(`    ${fmtSec(e.atSec).padStart(7)}  ${e.text}`)
  return lines.join('\n')
}

/** One plain line per second, for logs and CI. */
export function renderPlainLine (frame: FailoverFrame): string {
  const k = frame.counters
  const per = Object.keys(frame.states).map((id) => `${id}:${frame.states[id]}:${frame.rateByInstance[id] ?? 0}/s:${frame.pinnedByInstance[id] ?? 0}u`).join(' ')
  return `${fmtSec(frame.elapsedSec).padStart(7)}  ${frame.rate} req/s  ${per}  2xx=${k.ok + k.logins} 401=${k.status['401'] ?? 0} 5xx=${fivexx(k.status)} err=${k.errors} timeouts=${k.timeouts} relogins=${k.relogins} p99=${frame.latencyP99Ms.toFixed(1)}ms`
}

export function renderEventLine (e: FailoverEvent): string {
  return `${fmtSec(e.atSec).padStart(7)}  * ${e.text}`
}

function table (header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** The end-of-run summary for one or more strategies. */
export function renderFailoverSummary (summaries: FailoverSummary[]): string {
  if (summaries.length === 0) return 'no runs'
  const s0 = summaries[0]!
  const rows = summaries.map((s) => [
    s.strategy,
    String(s.usersPinnedToTarget),
    String(s.sessionsLost),
    String(s.preferencesLost),
    String(s.failed.fivexx),
    String(s.failed.connectionErrors),
    String(s.failed.timeouts),
    String(s.balancer.retries),
    String(s.balancer.rebounds),
    s.detectionSec === null ? '-' : fmtSec(s.detectionSec),
    fmtSec(s.recoverySec),
    `${s.latencyMs.p99.toFixed(1)}`,
  ])
  const head = `failover summary: scenario ${s0.scenario}, target ${s0.target} at ${fmtSec(s0.faultAtSec)}, ${s0.backends} instances, ${s0.connections} users, policy ${s0.policy}`
  const t = table(['strategy', 'pinned', 'sessions lost', 'prefs lost', '5xx', 'conn err', 'timeouts', 'retried', 're-pinned', 'detected', 'recovered', 'p99 ms'], rows)
  const verdicts = summaries.map((s) => `  - ${s.verdict}`).join('\n')
  return `${head}\n\n${t}\n\n${verdicts}\n\n` +
    'pinned: users on the target when it failed. sessions lost: users forced to log in again. retried: requests the balancer re-sent to another backend; re-pinned: users it gave a new backend. detected: fault → balancer state change; recovered: fault → last user-visible failure.'
}
