/**
 * Balancer errors. Each has a stable `code` (tests check it, never the message)
 * and the HTTP status the balancer answers with. Answered as JSON
 * `{"error":{"code","message"}}` by `answerError()` in request-path.ts, the one
 * place that turns errors into responses.
 */
export abstract class BalancerError extends Error {
  abstract readonly code: string
  abstract readonly status: number
  /** Backend the error is about, when there is one. */
  readonly backendId: string | undefined
  constructor (message: string, options?: { cause?: unknown, backendId?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.backendId = options?.backendId
  }
}

/** No backend can take the request (all down, draining or already tried). 503. */
export class NoBackendError extends BalancerError {
  readonly code = 'ERR_NO_BACKEND'
  readonly status = 503
  constructor (message = 'no backend available', options?: { cause?: unknown }) { super(message, options) }
}

/** The backend did not answer (headers) within the response timeout. 504. */
export class UpstreamTimeoutError extends BalancerError {
  readonly code = 'ERR_UPSTREAM_TIMEOUT'
  readonly status = 504
  constructor (message = 'backend did not answer in time', options?: { cause?: unknown, backendId?: string }) { super(message, options) }
}

/** Could not connect to the backend (refused, unreachable, connect timeout): the request never reached it. 502. */
export class UpstreamConnectError extends BalancerError {
  readonly code = 'ERR_UPSTREAM_CONNECT'
  readonly status = 502
  constructor (message = 'could not connect to backend', options?: { cause?: unknown, backendId?: string }) { super(message, options) }
}

/** The backend broke the exchange after we connected (reset, hang up) and it cannot be retried. 502. */
export class BadGatewayError extends BalancerError {
  readonly code = 'ERR_BAD_GATEWAY'
  readonly status = 502
  constructor (message = 'backend failed the request', options?: { cause?: unknown, backendId?: string }) { super(message, options) }
}

/** Request body larger than the balancer accepts at all. 413. */
export class BodyTooLargeError extends BalancerError {
  readonly code = 'ERR_BODY_TOO_LARGE'
  readonly status = 413
  constructor (message = 'request body too large') { super(message) }
}

/** Bad input on the admin API. 400. */
export class AdminInputError extends BalancerError {
  readonly code = 'ERR_BAD_REQUEST'
  readonly status = 400
  constructor (message: string) { super(message) }
}

/** Unknown backend or route on the admin API. 404. */
export class NotFoundError extends BalancerError {
  readonly code = 'ERR_NOT_FOUND'
  readonly status = 404
  constructor (message: string) { super(message) }
}

/** Conflicting admin change (duplicate backend id). 409. */
export class ConflictError extends BalancerError {
  readonly code = 'ERR_CONFLICT'
  readonly status = 409
  constructor (message: string) { super(message) }
}

/** Write `err` as the JSON error body; unknown errors become a 500 without internals. */
export function errorBody (err: unknown): { status: number, body: string } {
  if (err instanceof BalancerError) {
    return { status: err.status, body: JSON.stringify({ error: { code: err.code, message: err.message } }) }
  }
  return { status: 500, body: '{"error":{"code":"ERR_INTERNAL","message":"internal balancer error"}}' }
}
