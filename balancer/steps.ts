/**
 * The request path as named steps, each a plain function:
 *   pick backend (policies/) → forward headers → proxy → on error: retry or answer.
 * balancer.ts wires them to http-proxy.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import { BadGatewayError, BalancerError, UpstreamConnectError, UpstreamTimeoutError, errorBody } from './errors.js'

/**
 * Step "forward headers": drop every client-sent `X-Forwarded-*` and
 * `Forwarded` header (a client must not choose its own address) and set ours.
 * Also drops hop-by-hop headers that would break the upstream keep-alive
 * (`Connection`, `Keep-Alive`, `Proxy-Connection`), `Expect` (Node answers
 * 100-continue to the client itself) and a client-sent `x-affinity`.
 * Mutates `headers`; returns the client's Connection header (Node's server has
 * already taken its keep-alive decision from it).
 */
export function forwardHeaders (headers: IncomingHttpHeaders, remoteAddress: string | undefined, encrypted: boolean): string | undefined {
  const connection = headers.connection
  for (const k in headers) {
    // 'x' = 120, 'f' = 102: test the first char before the string compare.
    const c = k.charCodeAt(0)
    if ((c === 120 && k.startsWith('x-forwarded-')) || (c === 102 && k === 'forwarded')) delete headers[k]
  }
  if (connection !== undefined) delete headers.connection
  if (headers['keep-alive'] !== undefined) delete headers['keep-alive']
  if (headers['proxy-connection'] !== undefined) delete headers['proxy-connection']
  if (headers.expect !== undefined) delete headers.expect
  if (headers['x-affinity'] !== undefined) delete headers['x-affinity']
  headers['x-forwarded-for'] = remoteAddress ?? ''
  headers['x-forwarded-proto'] = encrypted ? 'https' : 'http'
  if (headers.host !== undefined) headers['x-forwarded-host'] = headers.host
  return connection
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])

export function isIdempotent (method: string | undefined): boolean {
  return method !== undefined && IDEMPOTENT.has(method)
}

/** Error codes meaning the connection was never established: the request cannot have reached the backend. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'EADDRNOTAVAIL'])

export interface FailureFacts {
  /** The upstream socket had connected (the request may have reached the backend). */
  connected: boolean
  /** The backend's response headers had arrived. */
  responded: boolean
}

/**
 * Turn a proxy error into one of our errors. Connection failures before
 * connecting → UpstreamConnectError; our own timeouts pass through; a reset or
 * hang-up after connecting → BadGatewayError. (http-proxy's proxyTimeout
 * would surface as ECONNRESET, which is why timeouts are our own timers.)
 */
export function classifyError (err: unknown, facts: FailureFacts, backendId: string): BalancerError {
  if (err instanceof BalancerError) return err
  const code = (err as { code?: string } | undefined)?.code ?? ''
  if (!facts.connected || CONNECT_CODES.has(code)) return new UpstreamConnectError(`could not connect to backend ${backendId} (${code || 'error'})`, { cause: err, backendId })
  return new BadGatewayError(`backend ${backendId} failed the request (${code || 'error'})`, { cause: err, backendId })
}

export interface RetryInput {
  error: BalancerError
  method: string | undefined
  /** The body can be sent again (buffered or empty). */
  replayable: boolean
  /** Some response byte was already sent to the client. */
  responseStarted: boolean
  /** Attempts made so far, including the failed one. */
  attempts: number
  maxAttempts: number
}

/**
 * Step "on error: retry?". Never after response bytes reached the client,
 * never without a replayable body, never on a timeout (the backend may still
 * be working). A request that never reached a backend goes elsewhere whatever
 * its method; after a reset only idempotent methods do, so a POST that may
 * have reached the backend is never sent twice.
 */
export function shouldRetry (r: RetryInput): boolean {
  if (r.responseStarted || !r.replayable || r.attempts >= r.maxAttempts) return false
  if (r.error instanceof UpstreamConnectError) return true
  if (r.error instanceof BadGatewayError) return isIdempotent(r.method)
  return false
}

/** Step "answer": the one place that writes an error to the client. */
export function answerError (res: ServerResponse, err: unknown): void {
  if (res.headersSent || res.destroyed) {
    // Part of the backend's answer is out: all we can do is cut it so the client sees a failure.
    res.destroy()
    return
  }
  const { status, body } = errorBody(err)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' })
  res.end(body)
}
