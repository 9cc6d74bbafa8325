import type { Backend } from '../pool.js'
import type { Policy } from './policy.js'
import { available } from './policy.js'

/** The up backend with the fewest requests in flight; ties go round-robin so idle pools spread. */
export function leastConn (): Policy {
  let start = 0
  return {
    name: 'least-conn',
    pick (ctx, pool) {
      const list = pool.backends
      const n = list.length
      let best: Backend | undefined
      for (let i = 0; i < n; i++) {
        const b = list[(start + i) % n]!
        if (available(b, ctx) && (best === undefined || b.inFlight < best.inFlight)) best = b
      }
      start = n === 0 ? 0 : (start + 1) % n
      return best
    },
  }
}
