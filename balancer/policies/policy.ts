/**
 * The routing policy interface: one `pick()` per file. Adding a policy =
 * adding a file and a line in `createPolicy()`.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Backend, Pool } from '../pool.js'

/** How the sticky policy routed a request. */
export type Affinity = 'none' | 'kept' | 'new' | 'rebound'

/** What a policy sees of a request (the balancer's Exchange implements it). */
export interface PickContext {
  readonly headers: IncomingHttpHeaders
  readonly remoteAddress: string | undefined
  /** Backends already tried for this request (retries): never picked again. */
  readonly tried: readonly Backend[] | undefined
  /** Set by the sticky policy. */
  affinity: Affinity
  /** Why the cookie was not honoured: 'tampered' | 'unknown' | 'down' | 'retry'. */
  reboundReason: string | undefined
  /** Backend id the cookie named when it was not honoured. */
  reboundFrom: string | undefined
}

export interface Policy {
  readonly name: string
  /** The backend for this request, or undefined when none can take it. */
  pick: (ctx: PickContext, pool: Pool) => Backend | undefined
}

/** Can take new work: up and not already tried. */
export function available (b: Backend, ctx: PickContext): boolean {
  return b.state === 'up' && (ctx.tried === undefined || !ctx.tried.includes(b))
}

/** A PickContext for tests and tools. */
export function pickContext (init: Partial<PickContext> = {}): PickContext {
  return { headers: {}, remoteAddress: '127.0.0.1', tried: undefined, affinity: 'none', reboundReason: undefined, reboundFrom: undefined, ...init }
}
