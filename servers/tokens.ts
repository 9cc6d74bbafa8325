import { createHmac, createSecretKey, hkdfSync, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto'
import { TokenError } from './errors.js'
import type { Role } from './users-db.js'

/** What a token may say: no private data, never an email or password hash. */
export interface TokenClaims {
  /** User id. */
  sub: number
  role: Role
  lang: string
  /** Issued-at, seconds since epoch with millisecond fractions (RFC 7519 NumericDate may be non-integer); token-revocable compares it to a per-user stamp. */
  iat: number
  exp: number
  /** Distinguishes access from refresh tokens so neither can stand in for the other. */
  use: TokenUse
  /** Refresh tokens only: id recorded when used, so each is accepted once. */
  jti?: string
}

export type TokenUse = 'access' | 'refresh'

export interface TokenSignerOptions {
  /** Shared secret; the HMAC key is derived from it with HKDF (distinct from the cookie keys). */
  secret: string
  /** Clock, ms. Default Date.now (tests move it). */
  now?: () => number
}

// The only header we ever emit; also the only `alg` we accept.
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

function parseJson (part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

/** Derive the token HMAC key from the shared secret. Built once per process. */
export function tokenKey (secret: string): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', secret, 'sessionscale', 'token-hs256', 32)))
}

/**
 * HS256 JWTs written with node:crypto. The key object is built once (a
 * string secret re-imported per call costs ~40x more), the algorithm is
 * pinned, and checks run in an order that leaks nothing: shape, algorithm,
 * signature, then claims.
 */
export class TokenSigner {
  readonly #key: KeyObject
  readonly #now: () => number

  constructor (opts: TokenSignerOptions) {
    if (typeof opts.secret !== 'string' || opts.secret.length < 8) throw new TypeError('secret must be a string of at least 8 characters')
    this.#key = tokenKey(opts.secret)
    this.#now = opts.now ?? Date.now
  }

  #mac (data: string): Buffer {
    return createHmac('sha256', this.#key).update(data).digest()
  }

  /** Sign claims for `ttlS` seconds from now. Refresh tokens get a fresh `jti`. */
  sign (c: { sub: number, role: Role, lang: string, use: TokenUse }, ttlS: number): { token: string, claims: TokenClaims } {
    const nowMs = this.#now()
    const claims: TokenClaims = { sub: c.sub, role: c.role, lang: c.lang, iat: nowMs / 1000, exp: Math.floor(nowMs / 1000) + ttlS, use: c.use }
    if (c.use === 'refresh') claims.jti = randomUUID()
    const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
    return { token: `${body}.${this.#mac(body).toString('base64url')}`, claims }
  }

  /** Verify a token meant for `use`; throws TokenError with a distinct code for each failure. */
  verify (token: string, use: TokenUse): TokenClaims {
    const parts = token.split('.')
    if (parts.length !== 3) throw new TokenError('ERR_TOKEN_MALFORMED')
    const [h, p, s] = parts as [string, string, string]
    const header = parseJson(h)
    if (header === undefined) throw new TokenError('ERR_TOKEN_MALFORMED')
    // Pinned: `none`, HS384, RS256 (key confusion) … are all refused before any crypto.
    if (header['alg'] !== 'HS256') throw new TokenError('ERR_TOKEN_ALGORITHM')
    // Compare the canonical encoding, not decoded bytes: base64url decoding ignores stray
    // characters and spare bits, so several strings would otherwise pass for one signature.
    const sig = Buffer.from(s, 'latin1')
    const expected = Buffer.from(this.#mac(`${h}.${p}`).toString('base64url'), 'latin1')
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) throw new TokenError('ERR_TOKEN_SIGNATURE')
    const c = parseJson(p)
    if (c === undefined || typeof c['sub'] !== 'number' || typeof c['exp'] !== 'number' || typeof c['iat'] !== 'number' ||
        (c['role'] !== 'admin' && c['role'] !== 'user') || typeof c['lang'] !== 'string' ||
        (c['use'] !== 'access' && c['use'] !== 'refresh')) {
      throw new TokenError('ERR_TOKEN_MALFORMED')
    }
    if (c['exp'] * 1000 <= this.#now()) throw new TokenError('ERR_TOKEN_EXPIRED')
    if (c['use'] !== use) throw new TokenError('ERR_TOKEN_TYPE')
    if (use === 'refresh' && typeof c['jti'] !== 'string') throw new TokenError('ERR_TOKEN_MALFORMED')
    return c as unknown as TokenClaims
  }
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken (authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined
  const m = /^Bearer[ ]+([A-Za-z0-9\-_.]+)\s*$/i.exec(authorization)
  return m?.[1]
}
