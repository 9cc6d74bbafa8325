import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { FAILOVER_DEFAULTS, runFailover, type FailoverOptions, type FailoverSummary } from '../../bench/failover.js'

/**
 * A short failover run for the invariant tests: 12 users, 3 instances, about
 * 5 s of load, fault at 1.2 s, restart at 3 s. Everything it starts is stopped
 * before it returns. The users DB lives in a temp folder removed on teardown.
 */
export async function shortFailover (t: Test, o: Pick<FailoverOptions, 'strategy' | 'scenario'> & Partial<FailoverOptions>): Promise<FailoverSummary> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sessionscale-failover-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const events: string[] = []
  const summary = await runFailover({
    ...FAILOVER_DEFAULTS,
    backends: 3,
    connections: 12,
    durationSec: 5,
    atSec: 1.2,
    restartAtSec: 3,
    drainMs: 1000,
    healthIntervalMs: 250,
    dataDir,
    ...o,
  }, { onEvent: (e) => events.push(`${e.atSec}s ${e.text}`) })
  t.comment(`${summary.verdict}\n${events.join('\n')}`)
  return summary
}
