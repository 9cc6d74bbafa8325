/**
 * `report.md`, and the document model it is built from. The model holds plain
 * text only (no Markdown, no HTML), so the HTML renderer shows the very same
 * sentences and tables and each renderer does its own escaping.
 */
import type { Report } from './report-schema.js'
import {
  type RunGroup, type TargetCheck, type Winner, COMPONENTS, checkTargets, cpuShares, explainFlag, fmtBytes, fmtInt, fmtMs,
  fmtPct, fmtUs, groupRuns, nearestConnections, primaryGroup, ratiosByLevel, relativeSpread, signed, STRATEGY_ORDER,
  TARGET_CONNECTIONS, winnersByLevel, withSpread,
} from './analysis.js'

export interface Table {
  id: string
  title: string
  /** One sentence under the title saying what the table answers. */
  caption: string
  headers: string[]
  /** 'r' for numbers. */
  align: Array<'l' | 'r'>
  rows: string[][]
}

export interface ReportDocument {
  title: string
  /** When/where: [label, value]. */
  about: Array<[string, string]>
  /** "What this shows": sentences generated from the numbers. */
  findings: string[]
  tables: Table[]
  targets: TargetCheck[]
  /** One row per flagged run. */
  flagged: Array<{ key: string, repeat: number, flags: string[] }>
  /** Every flag that occurs, with what it means. */
  flagMeanings: Array<[string, string]>
  notes: string[]
  howToRead: string[]
}

const RUN_HEADERS = ['strategy', 'policy', 'backends', 'conns']
const runCells = (g: RunGroup): string[] => [g.strategy, g.policy + (g.control ? ' (control)' : ''), String(g.backends), String(g.connections)]
const RUN_ALIGN: Array<'l' | 'r'> = ['l', 'l', 'r', 'r']

/** "x, y and z". */
function list (items: string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}

/** "35%" or "27–31%": the range of a share across runs. */
function shareRange (values: number[]): string {
  const lo = fmtPct(Math.min(...values))
  const hi = fmtPct(Math.max(...values))
  return lo === hi ? lo : `${lo.slice(0, -1)}–${hi}`
}

/** The "What this shows" paragraph: every sentence comes from a figure in the report. */
export function findings (report: Report): string[] {
  const groups = groupRuns(report.runs)
  const out: string[] = []
  if (groups.length === 0) return ['The report holds no runs.']
  const manyBackends = new Set(groups.map((g) => g.backends)).size > 1
  const at = (b: number, c: number): string => `${c} connections${manyBackends ? ` with ${b} backends` : ''}`

  const winners = winnersByLevel(groups)
  // Strategy alone names a run unless it used a policy other than the sticky default.
  const name = (g: RunGroup): string => (g.policy === 'sticky' ? g.strategy : `${g.strategy}/${g.policy}`)
  const versus = (w: Winner): string => w.runnerUp === null || w.marginPct === null
    ? ''
    : `, ${w.marginPct.toFixed(1)}% more than ${name(w.runnerUp)} (${fmtInt(w.runnerUp.reqPerSec.mean)})` +
      (w.withinSpread ? ', within the spread of repeated runs: too close to call' : '')
  const sameWinner = winners.length > 1 && winners.every((w) => name(w.winner) === name(winners[0]!.winner))
  if (sameWinner) {
    const details = winners.map((w) => `${fmtInt(w.winner.reqPerSec.mean)} req/s at ${at(w.level.backends, w.level.connections)}${versus(w)}`)
    out.push(`The ${name(winners[0]!.winner)} strategy serves the most requests at every traffic level: ${details.join('; ')}.`)
  } else {
    for (const w of winners) {
      out.push(`At ${at(w.level.backends, w.level.connections)}, ${name(w.winner)} serves the most requests: ${fmtInt(w.winner.reqPerSec.mean)} req/s${versus(w)}.`)
    }
  }

  for (const b of [...new Set(groups.map((g) => g.backends))].sort((x, y) => x - y)) {
    const atB = groups.filter((g) => g.backends === b && !g.control)
    const c = nearestConnections(atB, TARGET_CONNECTIONS)
    if (c === undefined) continue
    const main = STRATEGY_ORDER.map((s) => primaryGroup(atB, s, { backends: b, connections: c })).filter((g) => g !== undefined)
    if (main.length === 0) continue
    const costs = main.map((g) => `${g.strategy} ${fmtUs(g.cpuUsPerRequest.total.mean)} µs`)
    out.push(`CPU time per request at ${at(b, c)}, all processes together: ${list(costs)}.`)
    const shares = main.map(cpuShares)
    const parts = [
      `the balancer takes ${shareRange(shares.map((s) => s.balancer))} of the CPU per request`,
      `the instances ${shareRange(shares.map((s) => s.instances))}`,
      `the load generator ${shareRange(shares.map((s) => s.load))}`,
    ]
    const redisMax = Math.max(...shares.map((s) => s.redis))
    if (redisMax > 0) parts.push(`Redis up to ${fmtPct(redisMax)}`)
    out.push(`Where it goes: ${list(parts)}.`)
  }

  for (const t of checkTargets(groups)) {
    if (t.value === null || t.level === null) continue
    const where = at(t.level.backends, t.level.connections) + (t.nearest ? `, the nearest measured level to ${TARGET_CONNECTIONS}` : '')
    const verdict = t.pass === null ? '' : t.pass ? ': met' : ': missed'
    if (t.id === 'redis-throughput') {
      out.push(`A shared Redis store reaches ${t.value.toFixed(2)}× memory's req/s at ${where} (target ${t.target}${verdict}).`)
    } else if (t.id === 'token-instance-cpu') {
      const more = t.value >= 0 ? `${fmtUs(t.value)} µs more` : `${fmtUs(-t.value)} µs less`
      out.push(`The token instances spend ${more} CPU per request than the memory instances at ${where} (target ${t.target}${verdict}).`)
    } else {
      const token = primaryGroup(groups, 'token', t.level)!
      const revocable = primaryGroup(groups, 'token-revocable', t.level)!
      const d = (c: 'instances' | 'redis'): string => signed(revocable.cpuUsPerRequest[c].mean - token.cpuUsPerRequest[c].mean)
      out.push(`The price of revocation: token-revocable costs ${signed(t.value)} µs CPU per request over plain token at ${where} ` +
        `(instances ${d('instances')} µs, Redis ${d('redis')} µs), with ${(revocable.redisCommandsPerRequest?.mean ?? 0).toFixed(2)} Redis commands per request.`)
    }
  }

  const controls = groups.filter((g) => g.control)
  if (!report.config.controls || controls.length === 0) {
    out.push('No memory + round-robin control was run, so session loss without stickiness was not measured.')
  }
  const losing = controls.filter((g) => g.relogins.mean > 0)
  if (losing.length > 0) {
    const kinds = [...new Set(losing.map((g) => `${g.strategy} + ${g.policy}`))].join(', ')
    const each = losing.map((g) => `${fmtInt(g.relogins.mean)} at ${at(g.backends, g.connections)} ` +
      `(${fmtPct(g.requests.mean > 0 ? g.non2xx.mean / g.requests.mean : 0, 1)} of responses not 2xx)`)
    out.push(`Without stickiness (the ${kinds} control) sessions were lost: ${list(each)}; each is a user who got 401 and had to log in again.`)
  }
  for (const g of controls.filter((g) => g.relogins.mean === 0)) {
    out.push(`The ${g.strategy} + ${g.policy} control at ${at(g.backends, g.connections)} lost no session, which per-process sessions without stickiness should not manage: check how the control was run.`)
  }

  const flagged = report.runs.filter((r) => r.flags.length > 0)
  out.push(flagged.length === 0
    ? 'No run was flagged.'
    : `${flagged.length} of ${report.runs.length} runs ${flagged.length === 1 ? 'was' : 'were'} flagged (${flagged.map((r) => `${r.key} repeat ${r.repeat}: ${r.flags.join(', ')}`).join('; ')}); see Flags.`)
  return out
}

function runTables (groups: RunGroup[]): Table[] {
  const ratios = ratiosByLevel(groups)
  const redisGroups = groups.filter((g) => g.redisCommandsPerRequest !== null)
  return [
    {
      id: 'throughput',
      title: 'Throughput and latency',
      caption: 'Mean over repeats; "±" is half the min..max range of repeated runs. Latency covers every response, logins included.',
      headers: [...RUN_HEADERS, 'repeats', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'timeouts', 're-logins'],
      align: [...RUN_ALIGN, 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows: groups.map((g) => [
        ...runCells(g), String(g.runs.length), withSpread(g.reqPerSec), withSpread(g.p50, fmtMs),
        fmtMs(mean(g.runs.map((r) => r.latencyMs.p90))), withSpread(g.p99, fmtMs), fmtMs(Math.max(...g.runs.map((r) => r.latencyMs.max))),
        fmtInt(g.non2xx.mean), fmtInt(g.errors.mean), fmtInt(g.timeouts.mean), fmtInt(g.relogins.mean),
      ]),
    },
    {
      id: 'cpu',
      title: 'CPU time per request, µs, by component',
      caption: 'User + system CPU of each process over the measured phase, divided by the responses. "instances" sums all instances.',
      headers: [...RUN_HEADERS, ...COMPONENTS, 'total', 'balancer share'],
      align: [...RUN_ALIGN, 'r', 'r', 'r', 'r', 'r', 'r'],
      rows: groups.map((g) => [
        ...runCells(g), ...COMPONENTS.map((c) => fmtUs(g.cpuUsPerRequest[c].mean)),
        withSpread(g.cpuUsPerRequest.total, fmtUs), fmtPct(cpuShares(g).balancer),
      ]),
    },
    {
      id: 'memory',
      title: 'Memory: peak RSS by component, and memory per 1,000 sessions',
      caption: 'Peak resident memory seen during the run; "instances" sums each instance\'s peak.',
      headers: [...RUN_HEADERS, ...COMPONENTS, 'per 1,000 sessions', 'measured from'],
      align: [...RUN_ALIGN, 'r', 'r', 'r', 'r', 'r', 'l'],
      rows: groups.map((g) => [
        ...runCells(g), ...COMPONENTS.map((c) => fmtBytes(g.peakRssBytes[c].mean)),
        g.memoryPer1000Sessions === null ? '–' : fmtBytes(g.memoryPer1000Sessions.bytes.mean),
        g.memoryPer1000Sessions?.source ?? 'not measured',
      ]),
    },
    {
      id: 'redis',
      title: 'Redis commands per request',
      caption: redisGroups.length === 0 ? 'No run used Redis.' : 'From INFO commandstats before and after the measured phase.',
      headers: [...RUN_HEADERS, 'commands/request', 'by command'],
      align: [...RUN_ALIGN, 'r', 'l'],
      rows: redisGroups.map((g) => [
        ...runCells(g), g.redisCommandsPerRequest!.mean.toFixed(2),
        Object.entries(g.redisCommands).sort((a, b) => b[1] - a[1]).map(([cmd, n]) => `${cmd} ${n.toFixed(2)}`).join(', '),
      ]),
    },
    {
      id: 'ratios',
      title: 'Same-run comparisons',
      caption: 'Measured minutes apart on the same machine: the figures to trust when absolute numbers move.',
      headers: ['backends', 'conns', 'redis ÷ memory req/s', 'token − memory instance µs/req', 'revocation µs/req (total / instances)', 'Redis cmds/req'],
      align: ['r', 'r', 'r', 'r', 'r', 'l'],
      rows: ratios.map((r) => [
        String(r.level.backends), String(r.level.connections),
        r.redisOverMemoryReqPerSec === null ? '–' : `${r.redisOverMemoryReqPerSec.toFixed(2)}×`,
        r.tokenMinusMemoryInstanceCpuUs === null ? '–' : signed(r.tokenMinusMemoryInstanceCpuUs),
        r.revocationCpuUs === null ? '–' : `${signed(r.revocationCpuUs.total)} / ${signed(r.revocationCpuUs.instances)}`,
        Object.entries(r.redisCommandsPerRequest).map(([s, n]) => `${s} ${n.toFixed(2)}`).join(', ') || '–',
      ]),
    },
  ]
}

function mean (values: number[]): number {
  return values.reduce((a, v) => a + v, 0) / values.length
}

export function buildDocument (report: Report): ReportDocument {
  const groups = groupRuns(report.runs)
  const m = report.machine
  const c = report.config
  const flagged = report.runs.filter((r) => r.flags.length > 0).map((r) => ({ key: r.key, repeat: r.repeat, flags: r.flags }))
  const allFlags = [...new Set(flagged.flatMap((f) => f.flags))]
  const maxSpread = Math.max(0, ...groups.map((g) => relativeSpread(g.reqPerSec)))
  return {
    title: `sessionscale report — ${report.createdAt}`,
    about: [
      ['run started', report.createdAt],
      ['machine', `${m.cpuModel}, ${m.cores} cores, ${fmtBytes(m.totalMemBytes)} RAM, ${m.platform}/${m.arch}, kernel ${m.kernel}, load average ${m.loadAvg1.toFixed(2)} at start`],
      ['versions', Object.entries(report.versions).map(([k, v]) => `${k} ${v}`).join(', ')],
      ['strategies', c.strategies.join(', ')],
      ['backends × connections', `${c.backends.join(', ')} × ${c.connections.join(', ')}`],
      ['policy', c.policy + (c.controls ? ', plus memory + round-robin controls' : ', no controls')],
      ['duration', `${c.durationSec} s measured after ${c.warmupSec} s warm-up, ${c.repeat} repeat${c.repeat === 1 ? '' : 's'}`],
      ['workload', `${fmtInt(c.users)} users, ${fmtPct(c.writeRatio)} PUT /api/preferences, the rest GET /api/me`],
      ['scrypt cost', `N=${c.scrypt.N}, r=${c.scrypt.r}, p=${c.scrypt.p}`],
      ['latency precision', c.latencyPrecision],
    ],
    findings: findings(report),
    tables: runTables(groups),
    targets: checkTargets(groups),
    flagged,
    flagMeanings: allFlags.map((f) => [f, explainFlag(f)]),
    notes: report.notes,
    howToRead: [
      'CPU time per request and the same-run ratios are the figures to trust: they are measured on one machine within minutes and divide out how fast that machine is. On a small shared machine, absolute req/s moves with whatever else runs; compare it only within this report.' +
        (maxSpread > 0 ? ` Here repeated runs of one key differed by up to ${fmtPct(maxSpread)} in req/s.` : ''),
      'Absolute req/s depends on the machine: the same code runs several times faster or slower elsewhere. Use the sessionscale compare command on two reports from the same machine to see a change.',
      `Latency precision: ${c.latencyPrecision}. Differences of 1 ms or less in p50/p99 are within rounding.`,
      'A re-login is a user whose authenticated request got 401 and who logged in again: a lost session. Non-2xx counts include those 401s.',
      'The load generator runs on the same machine and its CPU is counted: when it uses more than the balancer, the run is flagged because the machine, not the system under test, may have been the limit.',
    ],
  }
}

// Markdown output. Text from the report is escaped so notes or names cannot inject markup.

function mdText (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function mdCell (s: string): string {
  return mdText(s).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}

export function markdownTable (t: Pick<Table, 'headers' | 'align' | 'rows'>): string {
  const line = (cells: string[]): string => `| ${cells.map(mdCell).join(' | ')} |`
  const sep = `|${t.align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|`
  return [line(t.headers), sep, ...t.rows.map(line)].join('\n')
}

export function targetMark (t: TargetCheck): string {
  return t.pass === null ? 'ℹ' : t.pass ? '✓' : '✗'
}

export function targetValue (t: TargetCheck): string {
  if (t.value === null) return 'not measured'
  return t.unit === '×' ? `${t.value.toFixed(2)}×` : `${signed(t.value)} µs`
}

export function renderMarkdown (report: Report): string {
  const doc = buildDocument(report)
  const out: string[] = [`# ${mdText(doc.title)}`, '']
  out.push(...doc.about.map(([k, v]) => `- **${mdText(k)}**: ${mdText(v)}`), '')
  out.push('## What this shows', '', doc.findings.map(mdText).join(' '), '')
  for (const t of doc.tables) {
    out.push(`## ${mdText(t.title)}`, '', mdText(t.caption), '')
    if (t.rows.length > 0) out.push(markdownTable(t), '')
  }
  out.push('## Targets', '')
  out.push(doc.targets.length === 0
    ? 'No target could be checked.'
    : markdownTable({
      headers: ['', 'target', 'value', 'wanted', 'measured at'],
      align: ['l', 'l', 'r', 'l', 'l'],
      rows: doc.targets.map((t) => [targetMark(t), t.name, targetValue(t), t.target, t.note]),
    }), '')
  out.push('## Flags', '')
  if (doc.flagged.length === 0) out.push('No run was flagged.', '')
  else {
    out.push(markdownTable({ headers: ['run', 'repeat', 'flags'], align: ['l', 'r', 'l'], rows: doc.flagged.map((f) => [f.key, String(f.repeat), f.flags.join(', ')]) }), '')
    out.push(...doc.flagMeanings.map(([f, why]) => `- **${mdText(f)}**: ${mdText(why)}`), '')
  }
  if (doc.notes.length > 0) out.push('## Notes', '', ...doc.notes.map((n) => `- ${mdText(n)}`), '')
  out.push('## How to read this report', '', ...doc.howToRead.map((p) => `- ${mdText(p)}`), '')
  return out.join('\n')
}
