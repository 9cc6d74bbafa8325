/**
 * startBalancer(): the proxy server, its admin server and the wiring of the
 * request-path steps (steps.ts) to http-proxy.
 *
 * Request path: pick backend (policy) → forward headers → proxy (http-proxy
 * with a keep-alive agent, body replayed from a buffer) → on error: retry on
 * another backend or answer one JSON error. Per-request work avoids closures:
 * the Exchange rides on req/res under a symbol and shared handlers read it.
 */
import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { PassThrough } from 'node:stream'
import { performance } from 'node:perf_hooks'
import httpProxy from 'http-proxy'
import { pino, type Logger } from 'pino'
import { DEFAULTS, POLICY_NAMES, type BalancerOptions, type ResolvedOptions } from './defaults.js'
import { Pool, backendIdFromUrl, type Backend, type BackendEvent } from './pool.js'
import { createPolicy } from './policies/index.js'
import { affinitySetCookie } from './affinity.js'
import { EMPTY_BODY, Exchange, bufferedBody, kExchange, type Replay } from './exchange.js'
import { answerError, classifyError, forwardHeaders, shouldRetry } from './steps.js'
import { NoBackendError, UpstreamConnectError, UpstreamTimeoutError, type BalancerError } from './errors.js'
import { createMetrics } from './metrics.js'
import { adminHandler, statusBody } from './admin.js'

export interface StartOptions extends BalancerOptions {
  /** Logger (pino). Default: pino at `logLevel` on stderr. */
  logger?: Logger
}

export interface Balancer {
  url: string
  adminUrl: string
  port: number
  adminPort: number
  policy: string
  /** Emits backend:up|down|draining|added|removed (BackendEvent) and affinity:rebound (ReboundEvent). */
  events: Pool
  pool: Pool
  /** The keep-alive agent towards the backends (exposed for tests and diagnostics). */
  agent: http.Agent
  /** Stop accepting, let in-flight requests finish (up to closeGrace), then close everything. */
  close: () => Promise<void>
}

export interface ReboundEvent { from: string | undefined, to: string, reason: string }

/** Fill defaults and check options; messages name the field. */
export function resolveOptions (opts: BalancerOptions): ResolvedOptions {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as ResolvedOptions & { secret?: string }
  if (!POLICY_NAMES.includes(o.policy)) throw new TypeError(`policy must be one of ${POLICY_NAMES.join(', ')}, got "${String(o.policy)}"`)
  for (const k of ['healthInterval', 'healthFastInterval', 'healthTimeout', 'rise', 'fall', 'fall5xx', 'connectTimeout', 'timeout', 'maxAttempts', 'maxSockets', 'keepAliveIdle', 'hashVnodes'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new TypeError(`${k} must be an integer >= 1, got ${String(o[k])}`)
  }
  if (!Number.isInteger(o.bodyBufferLimit) || o.bodyBufferLimit < 0) throw new TypeError('bodyBufferLimit must be an integer >= 0')
  if (!(o.hashLoadFactor >= 1)) throw new TypeError('hashLoadFactor must be >= 1')
  if (!Array.isArray(o.backends)) throw new TypeError('backends must be an array of {id?, url}')
  const secretGenerated = opts.secret === undefined || opts.secret === ''
  return { ...o, secret: secretGenerated ? randomBytes(32).toString('base64url') : opts.secret!, secretGenerated }
}

function listen (server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve((server.address() as AddressInfo).port) })
  })
}

type Upstream = IncomingMessage & { [kExchange]?: Exchange }

/** connection, keep-alive, transfer-encoding (any case); lowercases only names of those lengths. */
function isHopByHop (name: string): boolean {
  const n = name.length
  if (n === 10) { const l = name.toLowerCase(); return l === 'connection' || l === 'keep-alive' }
  return n === 17 && name.toLowerCase() === 'transfer-encoding'
}

const urlHost = (host: string): string => host.includes(':') ? `[${host}]` : host

export async function startBalancer (opts: StartOptions): Promise<Balancer> {
  const o = resolveOptions(opts)
  const log = opts.logger ?? pino({ level: o.logLevel, base: { service: 'balancer' } }, pino.destination(2))
  if (o.secretGenerated) log.warn('no secret given: affinity cookies are valid for this balancer process only')

  const pool = new Pool(o)
  for (const spec of o.backends) pool.add(spec.id ?? backendIdFromUrl(spec.url), spec.url)
  const policy = createPolicy(o.policy, o)
  const isSticky = o.policy === 'sticky'
  const totals = { rebounds: 0, retries: 0, localErrors: 0 }
  const metrics = createMetrics(pool, totals)
  for (const ev of ['backend:up', 'backend:down', 'backend:draining', 'backend:added', 'backend:removed']) {
    pool.on(ev, (e: BackendEvent) => log[ev === 'backend:down' ? 'warn' : 'info']({ event: ev, ...e }, `backend ${e.id} ${e.state}${ev.endsWith('ed') ? ` (${ev.slice(8)})` : ''}: ${e.reason}`))
  }

  const agent = new http.Agent({ keepAlive: true, maxSockets: o.maxSockets, timeout: o.keepAliveIdle, scheduling: 'lifo' })
  // selfHandleResponse: we write status + headers in one writeHead (http-proxy's outgoing passes
  // call setHeader once per header and rewrite Connection); see onProxyRes.
  const proxy = httpProxy.createProxyServer({ agent, xfwd: false, ws: false, selfHandleResponse: true })
  // Safety net: every proxy.web() call passes its own callback, but http-proxy throws on an 'error' without listener.
  proxy.on('error', (err, req, res) => { onProxyError(err, req, res as ServerResponse, undefined) })
  proxy.on('proxyReq', onProxyReq)
  proxy.on('proxyRes', onProxyRes)

  // Per-backend pre-built proxy options for the common body-less origin-form request.
  // `toProxy` makes http-proxy forward req.url as is instead of url.parse()-ing it on
  // every request; only safe for origin-form targets ("/path?query"), hence the check.
  const emptyOpts = new WeakMap<Backend, httpProxy.ServerOptions>()
  const proxyOptions = (b: Backend, body: Replay | undefined, originForm: boolean): httpProxy.ServerOptions => {
    if (body === EMPTY_BODY && originForm) {
      let po = emptyOpts.get(b)
      if (po === undefined) { po = { target: b.target, buffer: EMPTY_BODY, toProxy: true } as unknown as httpProxy.ServerOptions; emptyOpts.set(b, po) }
      return po
    }
    return { target: b.target, buffer: body, toProxy: originForm } as unknown as httpProxy.ServerOptions
  }

  function release (ex: Exchange): void {
    const b = ex.backend
    if (b !== undefined) { b.inFlight--; ex.backend = undefined }
  }

  function answerLocal (ex: Exchange, err: BalancerError): void {
    ex.settled = true
    totals.localErrors++
    metrics.local.set(err.status, (metrics.local.get(err.status) ?? 0) + 1)
    answerError(ex.res, err)
  }

  /** Step "pick backend", then "proxy". */
  function attempt (ex: Exchange): void {
    ex.attempts++
    const b = policy.pick(ex, pool)
    if (b === undefined) {
      // On a retry with nowhere left to go, the failure the client should see is the last upstream one.
      // (Unless no attempt ever reached a backend: then they are all down, which is a 503.)
      if (ex.lastError !== undefined && !(ex.lastError instanceof UpstreamConnectError)) { answerLocal(ex, ex.lastError); return }
      answerLocal(ex, new NoBackendError(pool.backends.length === 0 ? 'no backends configured' : 'no backend available (all down, draining or tried)'))
      return
    }
    if (ex.affinity === 'rebound' && ex.req.headers['x-affinity'] === undefined) {
      ex.req.headers['x-affinity'] = 'rebound'
      totals.rebounds++
      b.rebounds++
      // The user leaves the backend its cookie named (pinned estimate; see admin.ts).
      const from = ex.reboundFrom === undefined ? undefined : pool.get(ex.reboundFrom)
      if (from !== undefined && from.pinned > 0 && ex.reboundReason !== 'tampered') from.pinned--
      const e: ReboundEvent = { from: ex.reboundFrom, to: b.id, reason: ex.reboundReason ?? 'unknown' }
      pool.emit('affinity:rebound', e)
      log.debug({ event: 'affinity:rebound', ...e }, 'affinity rebound')
    }
    b.inFlight++
    ex.backend = b
    ex.connected = false
    ex.responded = false
    ex.proxyReq = undefined
    ex.sentAt = performance.now()
    proxy.web(ex.req, ex.res, proxyOptions(b, ex.body, ex.req.url?.charCodeAt(0) === 47), onProxyError as httpProxy.ErrorCallback)
  }

  function onProxyReq (proxyReq: ClientRequest, req: IncomingMessage): void {
    const ex = (req as unknown as Record<symbol, Exchange | undefined>)[kExchange]
    if (ex === undefined) return
    ex.proxyReq = proxyReq
    if (ex.clientGone) { proxyReq.destroy(); return }
    const socket = proxyReq.socket as Socket & { [kExchange]?: Exchange }
    if (socket.connecting) {
      socket[kExchange] = ex
      socket.once('connect', onUpstreamConnect)
      ex.timer = setTimeout(onConnectTimeout, o.connectTimeout, ex)
    } else {
      ex.connected = true
      ex.timer = setTimeout(onResponseTimeout, o.timeout, ex)
    }
  }

  function onUpstreamConnect (this: Socket & { [kExchange]?: Exchange }): void {
    const ex = this[kExchange]
    this[kExchange] = undefined
    if (ex === undefined || ex.settled || ex.clientGone) return
    ex.connected = true
    clearTimeout(ex.timer)
    ex.timer = setTimeout(onResponseTimeout, o.timeout, ex)
  }

  function onConnectTimeout (ex: Exchange): void {
    ex.proxyReq?.destroy(new UpstreamConnectError(`connect to backend ${ex.backend?.id ?? '?'} timed out after ${o.connectTimeout} ms`, { backendId: ex.backend?.id }))
  }

  function onResponseTimeout (ex: Exchange): void {
    ex.proxyReq?.destroy(new UpstreamTimeoutError(`backend ${ex.backend?.id ?? '?'} did not answer within ${o.timeout} ms`, { backendId: ex.backend?.id }))
  }

  function onProxyRes (proxyRes: IncomingMessage, req: IncomingMessage): void {
    const ex = (req as unknown as Record<symbol, Exchange | undefined>)[kExchange]
    const b = ex?.backend
    if (ex === undefined || b === undefined) return
    clearTimeout(ex.timer)
    ex.responded = true
    ex.settled = true
    const status = proxyRes.statusCode ?? 0
    metrics.latency(b).observe((performance.now() - ex.sentAt) / 1000)
    b.requests++
    b.statusCounts.set(status, (b.statusCounts.get(status) ?? 0) + 1)
    pool.noteStatus(b, status)
    // Response head from the raw [name, value, …] list: Node builds proxyRes.headers lazily, so
    // never touching it saves building that object (and deleting from it) on every response.
    // Hop-by-hop headers are the backend's terms with us: Node sets the client side's own
    // Connection/Keep-Alive and framing (chunked for HTTP/1.1, close-delimited for 1.0).
    const raw = proxyRes.rawHeaders
    const head: string[] = []
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!
      if (!isHopByHop(name)) head.push(name, raw[i + 1]!)
    }
    if (isSticky && (ex.affinity === 'new' || ex.affinity === 'rebound')) {
      b.pinned++
      head.push('set-cookie', affinitySetCookie(o.cookieName, b.cookie, ex.encrypted))
    }
    const res = ex.res
    try {
      const message = proxyRes.statusMessage
      if (message !== undefined && message !== '') res.writeHead(status, message, head)
      else res.writeHead(status, head)
    } catch (err) {
      // A header Node refuses to send (invalid characters): the backend's answer is unusable.
      proxyRes.resume()
      for (const name of res.getHeaderNames()) res.removeHeader(name)
      answerError(res, classifyError(err, { connected: true, responded: true }, b.id))
      return
    }
    // Body: shared handlers instead of proxyRes.pipe(res) (pipe adds and removes ~8 listeners
    // and allocates its closures per response); same backpressure (pause until 'drain').
    const up = proxyRes as Upstream
    up[kExchange] = ex
    ex.upstreamRes = proxyRes
    up.on('data', onUpstreamData)
    up.on('end', onUpstreamEnd)
    up.on('close', onUpstreamResClose)
  }

  function onUpstreamData (this: Upstream, chunk: Buffer): void {
    const ex = this[kExchange]
    if (ex === undefined) return
    const res = ex.res
    if (!res.write(chunk) && !res.destroyed) {
      this.pause()
      res.once('drain', onClientDrain)
    }
  }

  function onClientDrain (this: ServerResponse & { [kExchange]?: Exchange }): void {
    this[kExchange]?.upstreamRes?.resume()
  }

  function onUpstreamEnd (this: Upstream): void {
    const res = this[kExchange]?.res
    if (res !== undefined && !res.destroyed) res.end()
  }

  /** The backend broke off mid-body: the pipe would leave the client waiting, so cut it. */
  function onUpstreamResClose (this: Upstream): void {
    const ex = this[kExchange]
    if (ex !== undefined && !this.complete && !ex.res.writableEnded) ex.res.destroy()
  }

  /** Client side closed: finished, or aborted. Fix for http-proxy #1586: abort the upstream request ourselves. */
  function onResClose (this: ServerResponse & { [kExchange]?: Exchange }): void {
    const ex = this[kExchange]
    if (ex === undefined) return
    clearTimeout(ex.timer)
    if (!this.writableFinished) {
      ex.clientGone = true
      const p = ex.proxyReq
      if (p !== undefined && !p.destroyed) p.destroy()
    }
    release(ex)
  }

  /** Step "on error": retry on another backend or answer. Called by http-proxy for upstream and client request errors. */
  function onProxyError (err: Error, req: IncomingMessage, res: ServerResponse, target: unknown): void {
    const ex = (req as unknown as Record<symbol, Exchange | undefined>)[kExchange]
    if (ex === undefined) { if (res !== undefined && 'writeHead' in res) answerError(res, err); return }
    const b = ex.backend
    // Late errors of an earlier attempt, or of a request whose client left, are not backend failures.
    if (ex.clientGone || ex.settled || b === undefined || (target !== undefined && target !== b.target)) return
    clearTimeout(ex.timer)
    const error = classifyError(err, ex, b.id)
    b.failures++
    if (!ex.responded && !(error instanceof UpstreamTimeoutError)) pool.markDown(b, `${error.code}: ${(err as { code?: string }).code ?? err.message}`)
    release(ex)
    const retry = shouldRetry({ error, method: req.method, replayable: ex.replayable, responseStarted: res.headersSent, attempts: ex.attempts, maxAttempts: o.maxAttempts })
    log.debug({ backend: b.id, code: error.code, cause: (err as { code?: string }).code, retry }, 'upstream attempt failed')
    if (retry) {
      ex.lastError = error
      b.retries++
      totals.retries++
      ;(ex.tried ??= []).push(b)
      attempt(ex)
    } else {
      answerLocal(ex, error)
    }
  }

  function readBody (ex: Exchange): void {
    const { req } = ex
    const declared = Number(req.headers['content-length'] ?? NaN)
    if (declared > o.bodyBufferLimit) { ex.replayable = false; ex.body = undefined; attempt(ex); return }
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      chunks.push(chunk)
      if (size > o.bodyBufferLimit) {
        // Too big to keep: stream what we have plus the rest; this request cannot be retried.
        req.off('data', onData)
        req.off('end', onEnd)
        const pt = new PassThrough()
        for (const c of chunks) pt.write(c)
        req.pipe(pt)
        ex.replayable = false
        ex.body = pt as unknown as Replay
        attempt(ex)
      }
    }
    const onEnd = (): void => { ex.body = bufferedBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)); attempt(ex) }
    req.on('data', onData)
    req.on('end', onEnd)
  }

  function onRequest (req: IncomingMessage, res: ServerResponse): void {
    const ex = new Exchange(req, res)
    ;(req as unknown as Record<symbol, Exchange>)[kExchange] = ex
    ;(res as unknown as Record<symbol, Exchange>)[kExchange] = ex
    res.on('close', onResClose)
    forwardHeaders(req.headers, ex.remoteAddress, ex.encrypted)
    const h = req.headers
    if (h['transfer-encoding'] === undefined && (h['content-length'] === undefined || h['content-length'] === '0')) {
      ex.body = EMPTY_BODY
      attempt(ex)
    } else {
      readBody(ex)
    }
  }

  const server = http.createServer(onRequest)
  const admin = http.createServer(adminHandler({ pool, metrics, status: () => statusBody(o.policy, pool, totals) }))
  const port = await listen(server, o.port, o.host)
  let adminPort: number
  try {
    adminPort = await listen(admin, o.adminPort, o.adminHost)
  } catch (err) {
    server.close()
    throw err
  }
  pool.startHealthChecks()

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      pool.stopHealthChecks()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      admin.close()
      admin.closeAllConnections()
      const deadline = Date.now() + o.closeGrace
      // Idle keep-alive connections first; busy ones are closed as their responses finish.
      const sweep = setInterval(() => server.closeIdleConnections(), 50)
      server.closeIdleConnections()
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref())])
      clearInterval(sweep)
      server.closeAllConnections()
      await closed
      agent.destroy()
      proxy.close()
    })()
    return closing
  }

  return {
    url: `http://${urlHost(o.host)}:${port}`,
    adminUrl: `http://${urlHost(o.adminHost)}:${adminPort}`,
    port,
    adminPort,
    policy: o.policy,
    events: pool,
    pool,
    agent,
    close,
  }
}
