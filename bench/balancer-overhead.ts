/**
 * Balancer overhead: CPU time per request of (a) a bare node:http keep-alive
 * forwarder, (b) our balancer (policy sticky, users carrying affinity cookies)
 * and (c) plain http-proxy with a keep-alive agent, each in its own process in
 * front of the same two backend processes, at the same fixed request rate
 * (autocannon overallRate, in its own process). Only the forwarder's CPU is
 * measured (/proc/<pid>/stat). Prints a table and one JSON line.
 *
 *   node --import tsx bench/balancer-overhead.ts [--rate 3000] [--duration 10] [--connections 20] [--rounds 2]
 *
 * The same file runs the helper processes: `--role backend|bare|http-proxy|load`.
 */
import http from 'node:http'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import type { AddressInfo } from 'node:net'
import { sampleProcess } from './proc-stat.js'
import { startService } from './service.js'
import { signAffinity } from '../balancer/affinity.js'

const SELF = fileURLToPath(import.meta.url)
const SECRET = 'overhead-bench'

interface LoadResult { requests: number, rps: number, p50: number, p99: number, non2xx: number, errors: number }
interface Row { name: string, cpuUsPerReq: number, requests: number, rps: number, p50: number, p99: number, non2xx: number, errors: number }

function listenLine (port: number, extra: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${port}`, pid: process.pid, ...extra }) + '\n')
}

async function roleBackend (): Promise<void> {
  const body = JSON.stringify({ user: { id: 1, name: 'user1' }, language: 'en', instance: 'x', strategy: 'none' })
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  server.keepAliveTimeout = 65_000
  server.listen(0, '127.0.0.1', () => listenLine((server.address() as AddressInfo).port))
}

/** (a) The baseline: what any keep-alive forwarder must do, nothing more. */
async function roleBare (targets: string[]): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 30_000 })
  const ups = targets.map((t) => new URL(t)).map((u) => ({ hostname: u.hostname, port: Number(u.port) }))
  let next = 0
  const server = http.createServer((req, res) => {
    const up = ups[next++ % ups.length]!
    const headers = req.headers
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? ''
    const proxyReq = http.request({ hostname: up.hostname, port: up.port, path: req.url, method: req.method, headers, agent }, (proxyRes) => {
      res.writeHead(proxyRes.statusCode ?? 502, proxyRes.headers)
      proxyRes.pipe(res)
    })
    proxyReq.on('error', () => { if (!res.headersSent) { res.writeHead(502); res.end() } else res.destroy() })
    res.on('close', () => { if (!res.writableFinished) proxyReq.destroy() })
    if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) proxyReq.end()
    else req.pipe(proxyReq)
  })
  server.listen(0, '127.0.0.1', () => listenLine((server.address() as AddressInfo).port))
}

/** (c) Reference: plain http-proxy with a keep-alive agent, round-robin. */
async function roleHttpProxy (targets: string[]): Promise<void> {
  const { default: httpProxy } = await import('http-proxy')
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 30_000 })
  const proxy = httpProxy.createProxyServer({ agent })
  proxy.on('error', (_err, _req, res) => { (res as http.ServerResponse).destroy() })
  let next = 0
  const server = http.createServer((req, res) => proxy.web(req, res, { target: targets[next++ % targets.length] }))
  server.listen(0, '127.0.0.1', () => listenLine((server.address() as AddressInfo).port))
}

/** Load generator (own process): fixed overall rate; each connection is one user with a cookie (alternating). */
async function roleLoad (url: string, rate: number, duration: number, connections: number, cookies: string[]): Promise<void> {
  const { default: autocannon } = await import('autocannon')
  let n = 0
  const result = await autocannon({
    url,
    connections,
    duration,
    overallRate: rate,
    setupClient: (client: { setHeaders: (h: Record<string, string>) => void }) => {
      const c = cookies[n++ % Math.max(1, cookies.length)]
      if (c !== undefined) client.setHeaders({ cookie: c })
    },
  } as never)
  const out: LoadResult = { requests: result.requests.total, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors }
  process.stdout.write(JSON.stringify(out) + '\n')
}

function spawnRole (args: string[]): Promise<{ url: string, pid: number, child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before listening`)))
    createInterface({ input: child.stdout! }).once('line', (line) => {
      const info = JSON.parse(line) as { url: string }
      resolve({ url: info.url, pid: child.pid!, child })
    })
  })
}

function runLoad (url: string, rate: number, duration: number, connections: number, cookies: string[]): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--role', 'load', '--url', url, '--rate', String(rate), '--duration', String(duration), '--connections', String(connections), ...cookies.flatMap((c) => ['--cookie', c])], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`load generator exited ${code}`)) })
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as LoadResult))
  })
}

async function measure (name: string, url: string, pid: number, o: { rate: number, duration: number, connections: number, cookies: string[] }): Promise<Row> {
  // Warm-up (JIT, keep-alive pools), not measured.
  await runLoad(url, o.rate, 2, o.connections, o.cookies)
  const before = sampleProcess(pid)
  const load = await runLoad(url, o.rate, o.duration, o.connections, o.cookies)
  const after = sampleProcess(pid)
  if (before === undefined || after === undefined) throw new Error(`${name}: cannot read /proc/${pid}/stat`)
  return { name, cpuUsPerReq: (after.cpuUs - before.cpuUs) / Math.max(1, load.requests), ...load }
}

async function main (argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      role: { type: 'string' }, url: { type: 'string' }, target: { type: 'string', multiple: true }, cookie: { type: 'string', multiple: true },
      rate: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '2' }, only: { type: 'string' }, duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '20' },
    },
  })
  const rate = Number(values.rate)
  const duration = Number(values.duration)
  const connections = Number(values.connections)
  const rounds = Math.max(1, Number(values.rounds))
  switch (values.role) {
    case 'backend': return roleBackend()
    case 'bare': return roleBare(values.target ?? [])
    case 'http-proxy': return roleHttpProxy(values.target ?? [])
    case 'load': return roleLoad(values.url!, rate, duration, connections, values.cookie ?? [])
    case undefined: break
    default: throw new Error(`unknown --role ${values.role}`)
  }

  const children: ChildProcess[] = []
  const stopAll = (): void => { for (const c of children) if (c.exitCode === null) c.kill('SIGTERM') }
  process.once('exit', stopAll)
  try {
    const backends = await Promise.all([spawnRole(['--role', 'backend']), spawnRole(['--role', 'backend'])])
    children.push(...backends.map((b) => b.child))
    const targets = backends.flatMap((b) => ['--target', b.url])
    const bare = await spawnRole(['--role', 'bare', ...targets])
    children.push(bare.child)
    const plain = await spawnRole(['--role', 'http-proxy', ...targets])
    children.push(plain.child)
    const lb = await startService(['balancer', '--secret', SECRET, '--backend', `s1=${backends[0]!.url}`, '--backend', `s2=${backends[1]!.url}`, '--policy', 'sticky'])
    children.push(lb.child)
    const o = { rate, duration, connections, cookies: [] as string[] }
    const only = values.only?.split(',')
    const subjects = [
      { name: 'a bare node:http forwarder', url: bare.url, pid: bare.pid, o },
      { name: 'b balancer (sticky)', url: lb.url, pid: lb.pid, o: { ...o, cookies: [`lb=${signAffinity(SECRET, 's1')}`, `lb=${signAffinity(SECRET, 's2')}`] } },
      { name: 'c plain http-proxy + agent', url: plain.url, pid: plain.pid, o },
    ].filter((s) => only === undefined || only.includes(s.name[0]!))
    // Rounds in alternating order; each forwarder keeps its lowest CPU/request,
    // the figure least disturbed by other work on a shared machine.
    const best = new Map<string, Row>()
    for (let round = 0; round < rounds; round++) {
      for (const s of round % 2 === 0 ? subjects : [...subjects].reverse()) {
        const row = await measure(s.name, s.url, s.pid, s.o)
        process.stderr.write(`round ${round + 1}: ${s.name}: ${row.cpuUsPerReq.toFixed(1)} µs/req\n`)
        const prev = best.get(s.name)
        if (prev === undefined || row.cpuUsPerReq < prev.cpuUsPerReq) best.set(s.name, row)
      }
    }
    const rows = subjects.map((s) => best.get(s.name)!)
    if (rows.length !== 3) { process.stdout.write(JSON.stringify({ event: 'balancer-overhead', partial: true, rows }) + '\n'); return }
    const [a, b, c] = rows as [Row, Row, Row]
    const w = Math.max(...rows.map((r) => r.name.length))
    process.stdout.write(`\nforwarder CPU per request at ${rate} req/s, ${connections} connections, ${duration} s, best of ${rounds} rounds (load avg ${loadavg()[0]!.toFixed(2)})\n`)
    process.stdout.write(`${'forwarder'.padEnd(w)}  µs CPU/req  req/s    p50 ms  p99 ms  non2xx  errors\n`)
    for (const r of rows) {
      process.stdout.write(`${r.name.padEnd(w)}  ${r.cpuUsPerReq.toFixed(1).padStart(10)}  ${r.rps.toFixed(0).padStart(6)}  ${String(r.p50).padStart(7)}  ${String(r.p99).padStart(6)}  ${String(r.non2xx).padStart(6)}  ${String(r.errors).padStart(6)}\n`)
    }
    const ratio = b.cpuUsPerReq / a.cpuUsPerReq
    process.stdout.write(`ratio b/a = ${ratio.toFixed(2)}× (target <= 1.2×), c/a = ${(c.cpuUsPerReq / a.cpuUsPerReq).toFixed(2)}×\n`)
    process.stdout.write(JSON.stringify({ event: 'balancer-overhead', rate, connections, duration, rounds, loadavg: loadavg()[0], results: { bare: a, balancer: b, httpProxy: c }, ratio, ratioHttpProxy: c.cpuUsPerReq / a.cpuUsPerReq }) + '\n')
    await lb.stop()
  } finally {
    stopAll()
  }
}

await main(process.argv.slice(2))
