import { tooManyAttempts } from './errors.js'

export interface LoginThrottleOptions {
  /** Failures allowed per key within the window before 429. */
  maxFailures: number
  windowMs: number
  /** Clock, ms. Default Date.now. */
  now?: () => number
}

/**
 * Counts login FAILURES per key (username + client address) in a fixed
 * window; successes never count, so thousands of users logging in through
 * one balancer address are never throttled. In-process: each instance
 * counts its own failures (an attacker spread over N instances gets N×
 * attempts; a shared Redis counter would close that at one more round trip).
 */
export class LoginThrottle {
  readonly #opts: Required<LoginThrottleOptions>
  readonly #failures = new Map<string, { count: number, resetAt: number }>()

  constructor (opts: LoginThrottleOptions) {
    if (!(opts.maxFailures >= 1)) throw new RangeError('maxFailures must be >= 1')
    if (!(opts.windowMs >= 1)) throw new RangeError('windowMs must be >= 1')
    this.#opts = { now: Date.now, ...opts }
  }

  /** Throws 429 ERR_TOO_MANY_ATTEMPTS (with Retry-After seconds) when the key is blocked. */
  check (key: string): void {
    const e = this.#failures.get(key)
    if (e === undefined) return
    const now = this.#opts.now()
    if (e.resetAt <= now) { this.#failures.delete(key); return }
    if (e.count >= this.#opts.maxFailures) throw tooManyAttempts(Math.max(1, Math.ceil((e.resetAt - now) / 1000)))
  }

  fail (key: string): void {
    const now = this.#opts.now()
    const e = this.#failures.get(key)
    if (e === undefined || e.resetAt <= now) {
      if (this.#failures.size >= 100_000) this.#sweep(now)
      this.#failures.set(key, { count: 1, resetAt: now + this.#opts.windowMs })
    } else {
      e.count++
    }
  }

  succeed (key: string): void {
    this.#failures.delete(key)
  }

  #sweep (now: number): void {
    for (const [k, e] of this.#failures) if (e.resetAt <= now) this.#failures.delete(k)
    // Still full of live entries (a spray of usernames): forget the oldest rather than grow without bound.
    if (this.#failures.size >= 100_000) this.#failures.clear()
  }
}
