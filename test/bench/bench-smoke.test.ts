import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_PATH } from '../../bench/service.js'
import { canHaveRedis } from '../helpers/redis.js'
import type { Report } from '../../bench/report-schema.js'

function runCli (args: string[], cwd: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    // Bounded: the smoke run plans ~25 s; a hang is a failure, and the child is ours to kill.
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000)
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

t.test('a short bench run writes three reports whose data holds together', async (t) => {
  if (!canHaveRedis(t)) return
  const dir = mkdtempSync(join(tmpdir(), 'sessionscale-bench-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const r = await runCli(['bench', '--duration', '1', '--warmup', '0.5', '--connections', '5', '--out', join(dir, 'reports')], dir)
  t.equal(r.code, 0, `bench exits 0\n${r.stderr.slice(-2000)}`)
  t.match(r.stdout, /runs .* about \d+/, 'says up front what it will run and how long')
  const [stamp] = readdirSync(join(dir, 'reports'))
  t.ok(stamp, 'a report folder')
  const base = join(dir, 'reports', stamp!)
  for (const f of ['report.json', 'report.md', 'report.html']) t.ok(existsSync(join(base, f)), `${f} written`)

  const report = JSON.parse(readFileSync(join(base, 'report.json'), 'utf8')) as Report
  t.equal(report.schemaVersion, 1)
  t.ok(report.machine.cores >= 1)
  t.ok(report.config.scrypt.N > 0, 'the scrypt cost used is recorded')
  const strategies = new Set(report.runs.map((r) => r.strategy))
  t.same([...strategies].sort(), ['memory', 'redis', 'token', 'token-revocable'], 'every strategy ran')
  for (const run of report.runs) {
    t.ok(run.requests.total > 0, `${run.key}: requests > 0`)
    const sum = Object.values(run.statusCounts).reduce((a, b) => a + b, 0)
    t.equal(sum, run.requests.total, `${run.key}: status counts add up to the requests`)
    t.ok(run.cpuUsPerRequest.total > 0, `${run.key}: CPU per request measured`)
    t.ok(run.cpuUsPerRequest.instances > 0 && run.cpuUsPerRequest.balancer > 0, `${run.key}: instance and balancer CPU measured`)
    if (run.strategy !== 'memory') {
      t.equal(run.errors + run.timeouts, 0, `${run.key}: no errors`)
      t.notOk(Object.keys(run.statusCounts).some((s) => s.startsWith('5')), `${run.key}: no 5xx`)
      t.equal(run.relogins, 0, `${run.key}: no session lost`)
    }
    if (run.strategy === 'redis' || run.strategy === 'token-revocable') t.ok(run.redis !== null && run.redis.commandsPerRequest > 0, `${run.key}: Redis commands counted`)
    if (run.strategy === 'token') t.equal(run.redis, null, `${run.key}: no Redis on the token path`)
  }
  const control = report.runs.find((r) => r.control)
  t.ok(control, 'the memory + round-robin control ran')
  t.equal(control?.policy, 'round-robin')
  t.ok((control?.relogins ?? 0) > 0, 'without stickiness, memory sessions are lost (re-logins > 0)')
  const sticky = report.runs.find((r) => r.strategy === 'memory' && r.policy === 'sticky')
  t.equal(sticky?.relogins, 0, 'with stickiness, memory sessions hold')
  t.match(readFileSync(join(base, 'report.md'), 'utf8'), /token-revocable/)
})
