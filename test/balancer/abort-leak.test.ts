// A client that aborts aborts the upstream request. http-proxy 1.18.1 leaks
// here on Node >= 15.5 (https://github.com/http-party/node-http-proxy/issues/1586):
// it listens for req 'aborted', which no longer fires for a fully received
// request, so with a keep-alive agent the upstream request runs on. The
// balancer destroys the upstream request on res 'close' before finish.
import t from 'tap'
import http from 'node:http'
import httpProxy from 'http-proxy'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { startBalancer } from '../../balancer/balancer.js'
import { startTestBackend, type TestBackend } from './fixtures/backend.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until (what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

function trackConnections (b: TestBackend): { open: () => number } {
  let open = 0
  b.server.on('connection', (s) => { open++; s.once('close', () => { open-- }) })
  return { open: () => open }
}

/** Send `n` requests to a slow route, wait until the backend has them all, then abort them client-side. */
async function abortBatch (url: string, backend: TestBackend, n: number): Promise<void> {
  const before = backend.stats.requests
  const reqs = Array.from({ length: n }, () => {
    const req = http.get(`${url}/slow?ms=60000`, { agent: false })
    req.on('error', () => {})
    return req
  })
  await until('the backend to receive the batch', () => backend.stats.requests >= before + n, 10_000)
  for (const r of reqs) r.destroy()
}

t.test('1000 aborted requests leave no upstream sockets and no listener growth', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error): void => { if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })

  const backend = await startTestBackend('s1')
  t.teardown(() => backend.close())
  const conns = trackConnections(backend)
  const lb = await startBalancer({ backends: [{ id: 's1', url: backend.url }], secret: 's', timeout: 120_000, logger: pino({ level: 'silent' }) })
  t.teardown(() => lb.close())

  // Warm up one keep-alive socket, then snapshot listener counts.
  await (await fetch(`${lb.url}/x`)).text()
  const listeners = () => ({
    agentFree: lb.agent.listenerCount('free'),
    serverConnection: backend.server.listenerCount('connection'),
    serverRequest: backend.server.listenerCount('request'),
    poolEvents: lb.events.eventNames().reduce((a, e) => a + lb.events.listenerCount(e), 0),
  })
  const before = listeners()

  for (let batch = 0; batch < 10; batch++) await abortBatch(lb.url, backend, 100)

  await until('the backend to see 1000 aborted requests', () => backend.stats.aborted === 1000)
  await until('upstream connections to close', () => conns.open() <= 1)
  await until('the agent to hold no busy sockets', () => Object.keys(lb.agent.sockets).length === 0)
  t.equal(backend.stats.aborted, 1000, 'every upstream request was aborted')
  t.ok(conns.open() <= 1, `backend connections back to the keep-alive pool (${conns.open()})`)
  t.same(Object.keys(lb.agent.requests), [], 'no queued upstream requests')
  t.equal(lb.pool.get('s1')!.inFlight, 0, 'in-flight count back to 0')
  t.same(listeners(), before, 'listener counts stable')
  t.same(warnings, [], 'no MaxListenersExceededWarning')
  const res = await fetch(`${lb.url}/x`)
  t.equal(res.status, 200, 'still serving')
  await res.text()
})

t.test('control: plain http-proxy with a keep-alive agent leaks (issue #1586)', async (t) => {
  const backend = await startTestBackend('s1')
  t.teardown(() => backend.close())
  const conns = trackConnections(backend)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
  const proxy = httpProxy.createProxyServer({ agent, target: backend.url })
  proxy.on('error', () => {})
  const server = http.createServer((req, res) => proxy.web(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close(); agent.destroy() })
  await abortBatch(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, backend, 50)
  await sleep(500)
  t.equal(backend.stats.aborted, 0, 'the backend never learns the client left')
  t.equal(conns.open(), 50, 'all 50 upstream sockets stay busy')
})
