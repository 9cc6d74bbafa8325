/**
 * Cookie affinity. A valid cookie naming an up or draining backend routes
 * there (draining backends keep their pinned users). A tampered cookie, an
 * unknown or down backend, or one already tried by this request → pick a new
 * backend (least-conn among up ones) and mark the request rebound; the
 * balancer then re-issues the cookie and tells the app with `x-affinity: rebound`.
 */
import { affinityId, readCookie, verifyAffinity } from '../affinity.js'
import type { Policy } from './policy.js'
import { leastConn } from './least-conn.js'

export function sticky (opts: { cookieName: string }): Policy {
  const fresh = leastConn()
  const name = opts.cookieName
  return {
    name: 'sticky',
    pick (ctx, pool) {
      const value = readCookie(ctx.headers.cookie, name)
      if (value === undefined) {
        ctx.affinity = 'new'
        return fresh.pick(ctx, pool)
      }
      const id = affinityId(value)
      const b = id === undefined ? undefined : pool.get(id)
      let reason: string
      if (b === undefined) reason = id === undefined ? 'tampered' : 'unknown'
      else if (!verifyAffinity(value, b.cookie)) reason = 'tampered'
      else if (ctx.tried !== undefined && ctx.tried.includes(b)) reason = 'retry'
      else if (b.state === 'down') reason = 'down'
      else { ctx.affinity = 'kept'; return b }
      ctx.affinity = 'rebound'
      ctx.reboundReason = reason
      ctx.reboundFrom = id
      return fresh.pick(ctx, pool)
    },
  }
}
