/**
 * Per-request state of one client request through the balancer (one object
 * per request, stored on the request under a symbol).
 */
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import type { Backend } from './pool.js'
import type { BalancerError } from './errors.js'
import type { Affinity, PickContext } from './policies/policy.js'

/**
 * What http-proxy pipes into the upstream request instead of `req`
 * (its `buffer` option): the buffered body, re-sendable on retry. http-proxy
 * only calls `.pipe(dest)`, so a tiny object is enough and costs no stream.
 */
export interface Replay { pipe: (dest: NodeJS.WritableStream) => NodeJS.WritableStream }

/** Body of a request without one: ends the upstream request at once. */
export const EMPTY_BODY: Replay = { pipe (dest) { dest.end(); return dest } }

export function bufferedBody (body: Buffer): Replay {
  return { pipe (dest) { dest.end(body); return dest } }
}

export const kExchange = Symbol('sessionscale.exchange')

export class Exchange implements PickContext {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly encrypted: boolean
  tried: Backend[] | undefined = undefined
  affinity: Affinity = 'none'
  reboundReason: string | undefined = undefined
  reboundFrom: string | undefined = undefined
  /** Backend of the current attempt (holds one of its inFlight). */
  backend: Backend | undefined = undefined
  attempts = 0
  body: Replay | undefined = undefined
  replayable = true
  proxyReq: ClientRequest | undefined = undefined
  /** The backend's response being relayed (resumed on the client's 'drain'). */
  upstreamRes: IncomingMessage | undefined = undefined
  connected = false
  responded = false
  /** Final answer given (response finished, error answered or client gone). */
  settled = false
  clientGone = false
  timer: NodeJS.Timeout | undefined = undefined
  sentAt = 0
  /** Failure of the previous attempt, answered when a retry finds no backend. */
  lastError: BalancerError | undefined = undefined

  constructor (req: IncomingMessage, res: ServerResponse) {
    this.req = req
    this.res = res
    this.encrypted = (req.socket as { encrypted?: boolean }).encrypted === true
  }

  get headers (): IncomingHttpHeaders { return this.req.headers }
  get remoteAddress (): string | undefined { return this.req.socket.remoteAddress }
}
