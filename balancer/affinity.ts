/**
 * The affinity cookie: `<backendId>.<mac>` where mac is HMAC-SHA256(secret,
 * backendId) truncated to 12 bytes, base64url. It names a stable backend id,
 * never an address, and depends only on (secret, id): two balancers with the
 * same secret and backend ids route every cookie the same way without shared state.
 */
import { createHmac } from 'node:crypto'

/** Bytes of the HMAC kept in the cookie (96 bits). */
const MAC_BYTES = 12

/** Cookie value for `backendId` under `secret`. */
export function signAffinity (secret: string, backendId: string): string {
  const mac = createHmac('sha256', secret).update(backendId).digest().subarray(0, MAC_BYTES).toString('base64url')
  return `${backendId}.${mac}`
}

/**
 * Backend id named by a cookie value, or undefined when the value is malformed.
 * The signature is checked by the caller against the backend's precomputed
 * value (`verifyAffinity`), so a verify costs one string compare, no HMAC.
 */
export function affinityId (value: string): string | undefined {
  const dot = value.lastIndexOf('.')
  if (dot <= 0 || dot === value.length - 1) return undefined
  return value.slice(0, dot)
}

/** Constant-time compare of a cookie value with the expected one (no allocation). */
export function verifyAffinity (value: string, expected: string): boolean {
  if (value.length !== expected.length) return false
  let diff = 0
  for (let i = 0; i < value.length; i++) diff |= value.charCodeAt(i) ^ expected.charCodeAt(i)
  return diff === 0
}

/**
 * Value of cookie `name` in a Cookie header, or undefined. Scans without
 * building a map: the hot path reads one cookie per request.
 */
export function readCookie (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  let from = 0
  while (from < header.length) {
    const at = header.indexOf(name, from)
    if (at === -1) return undefined
    const eq = at + name.length
    // Must start the header or follow "; " / ";", and be followed by "=".
    const prev = at === 0 ? 59 : header.charCodeAt(at - 1)
    const startOk = prev === 59 || (prev === 32 && (at < 2 || header.charCodeAt(at - 2) === 59))
    if (startOk && header.charCodeAt(eq) === 61) {
      const end = header.indexOf(';', eq + 1)
      return (end === -1 ? header.slice(eq + 1) : header.slice(eq + 1, end)).trim()
    }
    from = at + 1
  }
  return undefined
}

/** Set-Cookie header for the affinity cookie (session cookie: no Max-Age). */
export function affinitySetCookie (name: string, value: string, secure: boolean): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`
}
