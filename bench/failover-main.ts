import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { POLICIES, STRATEGIES } from './bench-options.js'
import { FAILOVER_DEFAULTS, runFailover, SCENARIOS, checkFailoverOptions, type FailoverEvent, type FailoverOptions, type FailoverSummary } from './failover.js'
import { renderEventLine, renderFailoverSummary, renderFrame, renderPlainLine } from './failover-view.js'
import { parseFlags, intList, number, oneOf } from './flags.js'
import { UsageError } from './usage-error.js'
import type { Strategy } from './report-schema.js'

const d = FAILOVER_DEFAULTS
const HELP = `Usage: sessionscale failover [flags]

Runs load through the balancer, then kills, drains or restarts one component and
shows live what users see; at the end prints exactly what was lost and writes
reports/<time>/failover.json.

Flags:
  --strategy S        ${STRATEGIES.join('|')}|all (default all)
  --scenario X        ${SCENARIOS.join('|')} (default kill)
                        kill: SIGKILL the last instance, restart it at --restart-at
                        drain: SIGTERM it (graceful drain), restart it at --restart-at
                        redis-restart: stop Redis, start it at --restart-at (redis, token-revocable)
                        balancer-restart: restart the balancer on the same port
  --backends N        instances (default ${d.backends})
  --connections N     users, one per connection (default ${d.connections})
  --duration SEC      length of the load (default ${d.durationSec})
  --at SEC            when the fault happens (default ${d.atSec})
  --restart-at SEC    when the component comes back (default ${d.restartAtSec})
  --redis-persist     redis-restart: keep an append-only file, so sessions survive
  --policy P          ${POLICIES.join('|')} (default ${d.policy})
  --health-interval MS  balancer active health checks (default ${d.healthIntervalMs})
  --out DIR           reports folder (default reports)
  --help              this text
`

export async function run (argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
        strategy: { type: 'string' }, scenario: { type: 'string' }, backends: { type: 'string' }, connections: { type: 'string' },
        duration: { type: 'string' }, at: { type: 'string' }, 'restart-at': { type: 'string' }, 'redis-persist': { type: 'boolean' },
        policy: { type: 'string' }, 'health-interval': { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' },
      })
  if (values.help === true) { process.stdout.write(HELP); return 0 }

  const scenario = oneOf('--scenario', values.scenario ?? 'kill', SCENARIOS)
  const which = oneOf('--strategy', values.strategy ?? 'all', [...STRATEGIES, 'all'] as const)
  let strategies: Strategy[] = which === 'all' ? [...STRATEGIES] : [which]
  // redis-restart only means something where Redis is on the request path.
  if (scenario === 'redis-restart' && which === 'all') strategies = ['redis', 'token-revocable']
  const base: Omit<FailoverOptions, 'strategy'> = {
    ...d,
    scenario,
    backends: intList('--backends', values.backends ?? String(d.backends))[0]!,
    connections: intList('--connections', values.connections ?? String(d.connections))[0]!,
    durationSec: number('--duration', values.duration ?? String(d.durationSec), 2, 3600),
    atSec: number('--at', values.at ?? String(d.atSec), 0.1, 3600),
    restartAtSec: number('--restart-at', values['restart-at'] ?? String(d.restartAtSec), 0.2, 3600),
    redisPersist: values['redis-persist'] === true,
    policy: oneOf('--policy', values.policy ?? d.policy, POLICIES),
    healthIntervalMs: number('--health-interval', values['health-interval'] ?? String(d.healthIntervalMs), 50, 60_000),
  }
  for (const strategy of strategies) {
    const problem = checkFailoverOptions({ ...base, strategy })
    if (problem !== undefined) throw new UsageError(problem)
  }

  const tty = process.stdout.isTTY === true
  const out = (s: string): void => { process.stdout.write(s) }
  const controller = new AbortController()
  const onSignal = (): void => { out('\ninterrupted: stopping every process we started…\n'); controller.abort() }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const summaries: FailoverSummary[] = []
  try {
    for (const strategy of strategies) {
      const title = `sessionscale failover — ${strategy}, scenario ${scenario}, ${base.backends} instances, ${base.connections} users`
      out(`${title}\n`)
      const events: FailoverEvent[] = []
      let lastPlain = -1
      if (tty) out('\x1b[?25l')
      const summary = await runFailover({ ...base, strategy }, {
        signal: controller.signal,
        onInfo: (m) => out(`  ${m}\n`),
        onEvent: (e) => { events.push(e); if (!tty) out(`${renderEventLine(e)}\n`) },
        onFrame: (f) => {
          if (tty) {
            out(`\x1b[H\x1b[2J${renderFrame(f, events, { color: true, width: process.stdout.columns ?? 100, title })}\n`)
          } else if (Math.floor(f.elapsedSec) > lastPlain) {
            lastPlain = Math.floor(f.elapsedSec)
            out(`${renderPlainLine(f)}\n`)
          }
        },
      })
      if (tty) out('\x1b[?25h\n')
      summaries.push(summary)
      out(`${summary.verdict}\n\n`)
    }
    out(`${renderFailoverSummary(summaries)}\n`)
    const dir = resolve(join(values.out ?? 'reports', new Date().toISOString().replace(/[:.]/g, '-')))
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'failover.json')
    writeFileSync(file, `${JSON.stringify({ schemaVersion: 1, kind: 'failover', createdAt: new Date().toISOString(), summaries }, null, 2)}\n`)
    out(`\nsummary written: ${file}\n`)
    return 0
  } catch (err) {
    if (controller.signal.aborted) return 130
    throw err
  } finally {
    if (tty) out('\x1b[?25h')
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
