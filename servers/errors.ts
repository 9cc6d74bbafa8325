/**
 * HTTP errors with a stable `code`. Handlers throw them; the one error
 * middleware (app.ts) answers `{error:{code,message}}` with `status`.
 */
export class HttpError extends Error {
  readonly status: number
  readonly code: string
  /** Extra response headers (e.g. Retry-After, Allow). */
  readonly headers: Record<string, string>
  constructor (status: number, code: string, message: string, options?: { cause?: unknown, headers?: Record<string, string> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'HttpError'
    this.status = status
    this.code = code
    this.headers = options?.headers ?? {}
  }
}

export const badJson = (cause?: unknown): HttpError => new HttpError(400, 'ERR_BAD_JSON', 'request body is not valid JSON', { cause })
export const validation = (message: string): HttpError => new HttpError(400, 'ERR_VALIDATION', message)
export const unauthenticated = (message = 'not authenticated'): HttpError => new HttpError(401, 'ERR_UNAUTHENTICATED', message)
export const invalidCredentials = (): HttpError => new HttpError(401, 'ERR_INVALID_CREDENTIALS', 'invalid username or password')
export const forbidden = (message = 'not allowed'): HttpError => new HttpError(403, 'ERR_FORBIDDEN', message)
export const csrf = (): HttpError => new HttpError(403, 'ERR_CSRF', 'missing or wrong x-csrf-token header')
export const notFound = (message = 'no such route'): HttpError => new HttpError(404, 'ERR_NOT_FOUND', message)
export const methodNotAllowed = (allow: string[]): HttpError =>
  new HttpError(405, 'ERR_METHOD_NOT_ALLOWED', 'method not allowed on this route', { headers: { Allow: allow.join(', ') } })
export const bodyTooLarge = (limit: number): HttpError => new HttpError(413, 'ERR_BODY_TOO_LARGE', `request body is larger than ${limit} bytes`)
export const unsupportedMediaType = (): HttpError => new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json')
export const tooManyAttempts = (retryAfterS: number): HttpError =>
  new HttpError(429, 'ERR_TOO_MANY_ATTEMPTS', 'too many failed login attempts, retry later', { headers: { 'Retry-After': String(retryAfterS) } })

/** The session/revocation store (Redis) did not answer in time: a 503 for this request, not an instance failure. */
export class StoreUnavailableError extends HttpError {
  constructor (cause?: unknown) {
    super(503, 'ERR_STORE_UNAVAILABLE', 'session store unavailable, retry shortly', { cause, headers: { 'Retry-After': '1' } })
    this.name = 'StoreUnavailableError'
  }
}

/** Token error codes, each a 401. */
export type TokenErrorCode =
  | 'ERR_TOKEN_MALFORMED' | 'ERR_TOKEN_ALGORITHM' | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_EXPIRED' | 'ERR_TOKEN_TYPE' | 'ERR_TOKEN_REVOKED'

const TOKEN_MESSAGES: Record<TokenErrorCode, string> = {
  ERR_TOKEN_MALFORMED: 'token is malformed',
  ERR_TOKEN_ALGORITHM: 'token algorithm is not HS256',
  ERR_TOKEN_SIGNATURE: 'token signature is invalid',
  ERR_TOKEN_EXPIRED: 'token has expired',
  ERR_TOKEN_TYPE: 'wrong kind of token for this use',
  ERR_TOKEN_REVOKED: 'token has been revoked',
}

export class TokenError extends HttpError {
  constructor (code: TokenErrorCode, cause?: unknown) {
    super(401, code, TOKEN_MESSAGES[code], { cause, headers: { 'WWW-Authenticate': 'Bearer' } })
    this.name = 'TokenError'
  }
}
