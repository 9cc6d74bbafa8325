/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018,
 * https://arxiv.org/abs/1608.01350). Key: the first session cookie present
 * (`koa.sess`, koa-session's default, or `sid`, the name servers/ uses),
 * else the Authorization header, else the client address. Each backend owns `vnodes` points on a 32-bit ring; a key goes to the first
 * backend clockwise that is up and holds fewer than
 * ceil(loadFactor × (inFlight + 1) / upBackends) requests. Adding or removing
 * one of N backends moves about 1/N of the keys.
 */
import { createHash } from 'node:crypto'
import { readCookie } from '../affinity.js'
import type { Backend } from '../pool.js'
import type { Policy } from './policy.js'
import { available } from './policy.js'

/** FNV-1a then murmur3's fmix32: cheap, well spread 32-bit hash of a string. */
export function hash32 (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

export class HashRing {
  readonly backends: readonly Backend[]
  private readonly points: Uint32Array
  private readonly owners: Uint16Array

  constructor (backends: readonly Backend[], vnodes: number) {
    this.backends = backends
    const pts: Array<[number, number]> = []
    backends.forEach((b, bi) => {
      // Points depend on the id only, so every balancer builds the same ring.
      for (let v = 0; v < vnodes; v++) {
        const d = createHash('md5').update(`${b.id}#${v}`).digest()
        for (let k = 0; k < 4; k++) pts.push([d.readUInt32BE(k * 4), bi])
        v += 3
      }
    })
    pts.sort((a, b) => a[0] - b[0])
    this.points = Uint32Array.from(pts, (p) => p[0])
    this.owners = Uint16Array.from(pts, (p) => p[1])
  }

  /** Index of the first point at or after `h` (wrapping). */
  private first (h: number): number {
    let lo = 0
    let hi = this.points.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.points[mid]! < h) lo = mid + 1
      else hi = mid
    }
    return lo === this.points.length ? 0 : lo
  }

  /**
   * First backend clockwise from `key` that `ok` accepts and whose inFlight is
   * below `capacity`; falls back to the first one `ok` accepts when all are full.
   */
  lookup (key: string, ok: (b: Backend) => boolean, capacity = Infinity): Backend | undefined {
    const n = this.points.length
    if (n === 0) return undefined
    let fallback: Backend | undefined
    let i = this.first(hash32(key))
    for (let step = 0; step < n; step++, i = (i + 1) % n) {
      const b = this.backends[this.owners[i]!]!
      if (!ok(b)) continue
      if (b.inFlight < capacity) return b
      fallback ??= b
    }
    return fallback
  }
}

/** Bounded-load capacity: ceil(c × (total + 1) / n). */
export function boundedCapacity (totalInFlight: number, upCount: number, loadFactor: number): number {
  return upCount === 0 ? 0 : Math.ceil((loadFactor * (totalInFlight + 1)) / upCount)
}

export function consistentHash (opts: { cookieName: string, vnodes: number, loadFactor: number }): Policy {
  let ring: HashRing | undefined
  const names = opts.cookieName.split(',').map((n) => n.trim()).filter(Boolean)
  return {
    name: 'hash',
    pick (ctx, pool) {
      // The pool replaces its backends array on add/remove: rebuild only then.
      if (ring === undefined || ring.backends !== pool.backends) ring = new HashRing(pool.backends, opts.vnodes)
      let key: string | undefined
      for (let i = 0; i < names.length && key === undefined; i++) key = readCookie(ctx.headers.cookie, names[i]!)
      key ??= ctx.headers.authorization ?? ctx.remoteAddress ?? ''
      let up = 0
      let total = 0
      for (const b of pool.backends) { total += b.inFlight; if (available(b, ctx)) up++ }
      return ring.lookup(key, (b) => available(b, ctx), boundedCapacity(total, up, opts.loadFactor))
    },
  }
}
