import type { Policy } from './policy.js'
import { available } from './policy.js'

/** Each up backend in turn. */
export function roundRobin (): Policy {
  let next = 0
  return {
    name: 'round-robin',
    pick (ctx, pool) {
      const list = pool.backends
      const n = list.length
      for (let i = 0; i < n; i++) {
        const b = list[(next + i) % n]!
        if (available(b, ctx)) { next = (next + i + 1) % n; return b }
      }
      return undefined
    },
  }
}
