import { resolve, join } from 'node:path'
import { BENCH_DEFAULTS, estimateSeconds, planRuns, POLICIES, runKey, STRATEGIES, type BenchOptions } from './bench-options.js'
import { parseFlags, formatDuration, intList, listOf, number, oneOf } from './flags.js'
import { renderSummary } from './render-terminal.js'
import { runBench } from './runner.js'
import { writeReport } from './write-report.js'
import { UsageError } from './usage-error.js'

const d = BENCH_DEFAULTS
const HELP = `Usage: sessionscale bench [flags]

Starts a private redis-server, N instances per strategy and the balancer, drives
them with autocannon (one user per connection: log in once, then GET /api/me
with a share of PUT /api/preferences) and writes reports/<time>/report.{json,md,html}.

Flags:
  --strategies LIST    strategies to run (default ${d.strategies.join(',')})
  --backends LIST      instance counts, e.g. 1,2,4 (default ${d.backends.join(',')})
  --connections LIST   traffic levels, concurrent users (default ${d.connections.join(',')})
  --duration SEC       measured seconds per run (default ${d.durationSec})
  --warmup SEC         warm-up seconds per run, every user logs in (default ${d.warmupSec})
  --policy P           auto|${POLICIES.join('|')}; auto = memory→sticky, others→round-robin (default auto)
  --controls / --no-controls
                       add memory + round-robin runs that show sessions breaking
                       without stickiness (default on)
  --repeat N           repeated runs of each configuration (default ${d.repeat})
  --write-ratio R      share of requests that are PUT /api/preferences, 0..1 (default ${d.writeRatio})
  --scrypt-cost N      scrypt N for the bench's users DB (default ${d.scryptN}; logins are not measured)
  --redis-url URL      use this Redis instead of a private one (also REDIS_URL)
  --out DIR            reports folder (default ${d.reportsDir})
  --help               this text
`

function parse (argv: string[]): BenchOptions | undefined {
  const values = parseFlags(argv, {
        strategies: { type: 'string' }, backends: { type: 'string' }, connections: { type: 'string' },
        duration: { type: 'string' }, warmup: { type: 'string' }, policy: { type: 'string' },
        controls: { type: 'boolean' }, 'no-controls': { type: 'boolean' }, repeat: { type: 'string' },
        'write-ratio': { type: 'string' }, 'scrypt-cost': { type: 'string' }, 'redis-url': { type: 'string' },
        out: { type: 'string' }, help: { type: 'boolean' },
      })
  if (values.help === true) return undefined
  const o: BenchOptions = { ...d, strategies: [...d.strategies] }
  if (values.strategies !== undefined) o.strategies = listOf('--strategies', values.strategies, STRATEGIES)
  if (values.backends !== undefined) o.backends = intList('--backends', values.backends)
  if (values.connections !== undefined) o.connections = intList('--connections', values.connections)
  if (values.duration !== undefined) o.durationSec = number('--duration', values.duration, 1, 3600)
  if (values.warmup !== undefined) o.warmupSec = number('--warmup', values.warmup, 0.5, 600)
  if (values.policy !== undefined) o.policy = oneOf('--policy', values.policy, ['auto', ...POLICIES] as const)
  if (values.controls === true) o.controls = true
  if (values['no-controls'] === true) o.controls = false
  if (values.repeat !== undefined) o.repeat = intList('--repeat', values.repeat)[0]!
  if (values['write-ratio'] !== undefined) o.writeRatio = number('--write-ratio', values['write-ratio'], 0, 1)
  if (values['scrypt-cost'] !== undefined) {
    o.scryptN = number('--scrypt-cost', values['scrypt-cost'], 2, 2 ** 20)
    if ((o.scryptN & (o.scryptN - 1)) !== 0) throw new UsageError('--scrypt-cost must be a power of two')
  }
  o.redisUrl = values['redis-url'] ?? (process.env['REDIS_URL'] !== '' ? process.env['REDIS_URL'] : undefined)
  if (values.out !== undefined) o.reportsDir = values.out
  return o
}

function bar (done: number, total: number, width = 24): string {
  const filled = Math.round((done / Math.max(1, total)) * width)
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
}

export async function run (argv: string[]): Promise<number> {
  const o = parse(argv)
  if (o === undefined) { process.stdout.write(HELP); return 0 }
  const plan = planRuns(o)
  const eta = estimateSeconds(plan, o)
  const tty = process.stdout.isTTY === true
  const out = (s: string): void => { process.stdout.write(s) }
  out(`sessionscale bench: ${plan.length} runs (${o.strategies.join(', ')}${o.controls ? ' + memory/round-robin control' : ''}; ` +
    `backends ${o.backends.join(',')}; connections ${o.connections.join(',')}; ${o.durationSec}s each + ${o.warmupSec}s warm-up), about ${formatDuration(eta)}\n`)

  const controller = new AbortController()
  const onSignal = (): void => { out('\ninterrupted: stopping every process we started…\n'); controller.abort() }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const t0 = Date.now()
  let line = ''
  const status = (text: string): void => {
    if (tty) { out(`\r\x1b[2K${text}`); line = text } else out(`${text}\n`)
  }
  try {
    const report = await runBench(o, plan, {
      signal: controller.signal,
      onInfo: (m) => status(tty ? `${bar(0, 1)} ${m}` : `  ${m}`),
      onRunStart: (r, i, n) => {
        if (!tty) return
        const elapsed = (Date.now() - t0) / 1000
        const left = i === 0 ? eta : (elapsed / i) * (n - i)
        status(`${bar(i, n)} ${i + 1}/${n} ${runKey(r)}  elapsed ${formatDuration(elapsed)}  ETA ${formatDuration(left)}`)
      },
      onRunDone: (r, i, n) => {
        const text = `[${i + 1}/${n}] ${r.key}${r.control ? ' (control)' : ''}: ${r.requests.perSec} req/s, p99 ${r.latencyMs.p99.toFixed(1)} ms, ` +
          `${r.cpuUsPerRequest.total.toFixed(0)} µs CPU/req, re-logins ${r.relogins}${r.flags.length > 0 ? `, flags: ${r.flags.join(',')}` : ''}`
        if (i + 1 === n) line = ''
        if (tty) { out(`\r\x1b[2K${text}\n`); if (line !== '') out(line) } else out(`${text}\n`)
      },
    })
    if (tty) out('\r\x1b[2K')
    const dir = resolve(join(o.reportsDir, report.createdAt.replace(/[:.]/g, '-')))
    const paths = await writeReport(report, dir)
    out(`\n${renderSummary(report, { color: tty })}\n`)
    out(`reports written (${formatDuration((Date.now() - t0) / 1000)}):\n  ${paths.json}\n  ${paths.md}\n  ${paths.html}\n`)
    return 0
  } catch (err) {
    if (controller.signal.aborted) return 130
    throw err
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
