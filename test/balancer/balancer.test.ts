// In-process startBalancer(): events, passive/active health transitions, close().
import t from 'tap'
import http from 'node:http'
import { once } from 'node:events'
import { pino } from 'pino'
import { startBalancer, resolveOptions, type ReboundEvent } from '../../balancer/balancer.js'
import type { BackendEvent } from '../../balancer/pool.js'
import { startTestBackend } from './fixtures/backend.js'
import { lbCookie } from './fixtures/cluster.js'

const silent = pino({ level: 'silent' })

t.test('options are checked when built, naming the field', async (t) => {
  t.throws(() => resolveOptions({ backends: [], policy: 'nope' as never }), /policy must be one of/)
  t.throws(() => resolveOptions({ backends: [], rise: 0 }), /rise must be an integer >= 1/)
  t.throws(() => resolveOptions({ backends: [], hashLoadFactor: 0.5 }), /hashLoadFactor/)
  t.equal(resolveOptions({ backends: [] }).secretGenerated, true)
  t.equal(resolveOptions({ backends: [], secret: 'x' }).secret, 'x')
  await t.rejects(startBalancer({ backends: [{ id: 'bad id', url: 'http://127.0.0.1:1' }], logger: silent }), { code: 'ERR_BAD_REQUEST' })
})

t.test('events: passive down, rebound, active up', async (t) => {
  const s1 = await startTestBackend('s1')
  const s2 = await startTestBackend('s2')
  t.teardown(() => s2.close())
  const port1 = Number(new URL(s1.url).port)
  const lb = await startBalancer({ backends: [{ id: 's1', url: s1.url }, { id: 's2', url: s2.url }], secret: 'k', healthInterval: 100, healthFastInterval: 50, rise: 2, logger: silent })
  t.teardown(() => lb.close())
  const events: string[] = []
  for (const e of ['backend:up', 'backend:down', 'backend:draining']) lb.events.on(e, (ev: BackendEvent) => events.push(`${e}:${ev.id}`))
  const rebounds: ReboundEvent[] = []
  lb.events.on('affinity:rebound', (e: ReboundEvent) => rebounds.push(e))

  const s1Cookie = `lb=${lb.pool.get('s1')!.cookie}`
  const before = await fetch(`${lb.url}/x`, { headers: { cookie: s1Cookie } })
  t.equal(before.headers.get('x-instance-id'), 's1')
  await before.text()

  await s1.close()
  const after = await fetch(`${lb.url}/x`, { headers: { cookie: s1Cookie } })
  t.equal(after.status, 200, 'retried on s2')
  t.equal(after.headers.get('x-instance-id'), 's2')
  t.ok(lbCookie(after)?.startsWith('s2.'), 're-pinned')
  await after.text()
  t.ok(events.includes('backend:down:s1'))
  t.match(rebounds, [{ from: 's1', to: 's2' }])

  const s1again = await startTestBackend('s1', port1)
  t.teardown(() => s1again.close())
  const [ev] = await once(lb.events, 'backend:up') as [BackendEvent]
  t.match(ev, { id: 's1', state: 'up', previous: 'down' })
  const back = await fetch(`${lb.url}/x`, { headers: { cookie: s1Cookie } })
  t.equal(back.headers.get('x-instance-id'), 's1', 'pinned users return once it is up')
  await back.text()
  t.equal(lb.pool.get('s1')!.inFlight + lb.pool.get('s2')!.inFlight, 0)
})

t.test('close() finishes in-flight requests and closes idle keep-alive connections', async (t) => {
  const s1 = await startTestBackend('s1')
  t.teardown(() => s1.close())
  const lb = await startBalancer({ backends: [{ url: s1.url }], secret: 'k', logger: silent })
  const agent = new http.Agent({ keepAlive: true })
  t.teardown(() => agent.destroy())
  const idle = await new Promise<number>((resolve) => http.get(`${lb.url}/x`, { agent }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)) }))
  t.equal(idle, 200)
  const slow = fetch(`${lb.url}/slow?ms=300`)
  await new Promise((resolve) => setTimeout(resolve, 50))
  const closed = lb.close()
  const res = await slow
  t.equal(res.status, 200)
  await res.text()
  await closed
  t.pass('closed with an idle keep-alive client connection open')
})

t.test('connect timeout: the request never reached the backend, so it goes to another one', async (t) => {
  // A listener whose accept queue is full and whose process never accepts: SYNs are dropped, connects hang.
  const { spawn } = await import('node:child_process')
  const net = await import('node:net')
  const child = spawn(process.execPath, ['-e', "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { console.log(this.address().port); setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000), 50) })"], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const [line] = await once(child.stdout!, 'data') as [Buffer]
  const holePort = Number(String(line).trim())
  await new Promise((resolve) => setTimeout(resolve, 200))
  const fillers = Array.from({ length: 4 }, () => net.connect(holePort, '127.0.0.1').on('error', () => {}))
  t.teardown(() => { for (const f of fillers) f.destroy() })
  await new Promise((resolve) => setTimeout(resolve, 200))

  const s2 = await startTestBackend('s2')
  t.teardown(() => s2.close())
  const hole = `http://127.0.0.1:${holePort}`
  const lb = await startBalancer({ backends: [{ id: 's1', url: hole }, { id: 's2', url: s2.url }], policy: 'round-robin', secret: 'k', connectTimeout: 300, healthInterval: 60_000, logger: silent })
  t.teardown(() => lb.close())
  const started = performance.now()
  const res = await fetch(`${lb.url}/post`, { method: 'POST', body: 'x' })
  t.equal(res.status, 200, 'answered by s2')
  t.equal(res.headers.get('x-instance-id'), 's2')
  await res.text()
  const took = performance.now() - started
  t.ok(took >= 250 && took < 3000, `after the connect timeout (${Math.round(took)} ms)`)
  t.equal(lb.pool.get('s1')!.state, 'down', 'marked down passively')
  t.equal(lb.pool.get('s1')!.failures, 1)
  t.equal(s2.stats.posts, 1, 'the POST was retried: it never reached s1')
})

t.test('responses: status line, repeated headers, backend cookies kept, chunked bodies, hop-by-hop dropped', async (t) => {
  const backend = http.createServer((req, res) => {
    if (req.url === '/chunked') {
      res.writeHead(201, 'Made', { 'x-instance-id': 'c', 'set-cookie': ['sid=abc; HttpOnly', 'sid.sig=def'] })
      res.write('a'.repeat(1000))
      setTimeout(() => res.end('b'.repeat(1000)), 10)
      return
    }
    res.writeHead(200, { 'content-length': 2, 'keep-alive': 'timeout=65', connection: 'keep-alive' })
    res.end('ok')
  })
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { backend.closeAllConnections(); backend.close() })
  const lb = await startBalancer({ backends: [{ id: 'c', url: `http://127.0.0.1:${(backend.address() as { port: number }).port}` }], secret: 'k', logger: silent })
  t.teardown(() => lb.close())

  const res = await new Promise<http.IncomingMessage & { text: string }>((resolve) => http.get(`${lb.url}/chunked`, (r) => {
    let text = ''
    r.setEncoding('utf8').on('data', (c: string) => { text += c }).on('end', () => resolve(Object.assign(r, { text })))
  }))
  t.equal(res.statusCode, 201)
  t.equal(res.statusMessage, 'Made')
  t.equal(res.headers['transfer-encoding'], 'chunked')
  t.equal(res.text, 'a'.repeat(1000) + 'b'.repeat(1000))
  t.same(res.headers['set-cookie'], ['sid=abc; HttpOnly', 'sid.sig=def', `lb=${lb.pool.get('c')!.cookie}; Path=/; HttpOnly; SameSite=Lax`], 'backend cookies kept, affinity cookie appended')

  const plain = await fetch(`${lb.url}/plain`)
  t.equal(await plain.text(), 'ok')
  t.not(plain.headers.get('keep-alive'), 'timeout=65', "the backend's keep-alive terms are not passed on")
})
