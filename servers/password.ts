import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { SCRYPT_DEFAULTS } from './defaults.js'

/** scrypt cost parameters stored with each hash. */
export interface ScryptParams { N: number, r: number, p: number }

const KEYLEN = 32

function scrypt (password: string, salt: Buffer, p: ScryptParams): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is exactly what N=2^15, r=8 needs and is rejected: allow 2x.
  const opts: ScryptOptions = { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 }
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, KEYLEN, opts, (err, key) => { if (err !== null) reject(err); else resolve(key) })
  })
}

/** Checks N is a power of two > 1, the one thing scrypt insists on. */
export function checkScryptN (N: number): void {
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0 || N > 2 ** 20) {
    throw new RangeError(`scrypt N must be a power of two between 2 and 2^20, got ${N}`)
  }
}

/**
 * Hash a password as `scrypt$N$r$p$salt$hash` (salt and hash base64url) so a
 * later verify uses the stored parameters, whatever the current default.
 */
export async function hashPassword (password: string, params: Partial<ScryptParams> = {}): Promise<string> {
  const p = { ...SCRYPT_DEFAULTS, ...params }
  checkScryptN(p.N)
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, p)
  return `scrypt$${p.N}$${p.r}$${p.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

/** The parameters of a stored hash, or undefined when it is not ours. */
export function parseHash (stored: string): (ScryptParams & { salt: Buffer, key: Buffer }) | undefined {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])]
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return undefined
  return { N, r, p, salt: Buffer.from(parts[4]!, 'base64url'), key: Buffer.from(parts[5]!, 'base64url') }
}

/** Constant-time check of `password` against a stored hash; false (never throws) for a malformed hash. */
export async function verifyPassword (password: string, stored: string): Promise<boolean> {
  const h = parseHash(stored)
  if (h === undefined || h.key.length !== KEYLEN) return false
  const key = await scrypt(password, h.salt, h)
  return timingSafeEqual(key, h.key)
}
