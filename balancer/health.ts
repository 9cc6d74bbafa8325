/**
 * Health state machine (pure) and the active checker.
 *
 * A backend is `up` or `down` by health; independently it may be draining
 * (operator drain, or /healthz answering 503 with status "draining"). Its
 * routing state is down > draining > up. `rise` consecutive good checks bring
 * a down backend up, `fall` consecutive bad ones take an up backend down;
 * passive failures (connection refused/reset, a run of 5xx) mark it down at once.
 */
import http from 'node:http'

export type CheckResult = 'ok' | 'draining' | 'fail'

export interface HealthCounters {
  /** Liveness from checks: 'up' or 'down'. */
  health: 'up' | 'down'
  /** Consecutive good checks (ok or draining). */
  okRun: number
  /** Consecutive failed checks. */
  failRun: number
  /** The backend itself said it is draining. */
  selfDrain: boolean
}

export function initialHealth (): HealthCounters {
  // Optimistic start like HAProxy: traffic flows at once; `fall` bad checks take it down.
  return { health: 'up', okRun: 0, failRun: 0, selfDrain: false }
}

/** Apply one check result. Mutates `h`; returns true when health or selfDrain changed. */
export function applyCheck (h: HealthCounters, result: CheckResult, cfg: { rise: number, fall: number }): boolean {
  const before = h.health
  const drainBefore = h.selfDrain
  if (result === 'fail') {
    h.failRun++
    h.okRun = 0
    if (h.health === 'up' && h.failRun >= cfg.fall) h.health = 'down'
  } else {
    h.okRun++
    h.failRun = 0
    h.selfDrain = result === 'draining'
    if (h.health === 'down' && h.okRun >= cfg.rise) h.health = 'up'
  }
  return before !== h.health || drainBefore !== h.selfDrain
}

/** Passive failure: mark down at once; `rise` good checks needed to come back. */
export function markDownPassive (h: HealthCounters): boolean {
  h.okRun = 0
  h.failRun = 0
  if (h.health === 'down') return false
  h.health = 'down'
  return true
}

/** True while a backend's checks disagree with its state: check faster then. */
export function isTransitioning (h: HealthCounters): boolean {
  return (h.health === 'down' && h.okRun > 0) || (h.health === 'up' && h.failRun > 0)
}

/**
 * One GET of the health path: 200 → ok; 503 whose body mentions "draining" →
 * draining; anything else, an error or no answer within `timeoutMs` → fail.
 */
export function checkOnce (url: URL, path: string, timeoutMs: number, agent: http.Agent): Promise<CheckResult> {
  return new Promise((resolve) => {
    let done = false
    const finish = (r: CheckResult): void => { if (!done) { done = true; clearTimeout(timer); resolve(r) } }
    const req = http.request({ hostname: url.hostname, port: url.port, path, method: 'GET', agent, headers: { 'user-agent': 'sessionscale-balancer-health' } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { if (body.length < 4096) body += chunk })
      res.on('end', () => {
        if (res.statusCode === 200) finish('ok')
        else if (res.statusCode === 503 && /draining/i.test(body)) finish('draining')
        else finish('fail')
      })
      res.on('error', () => finish('fail'))
    })
    const timer = setTimeout(() => { req.destroy(); finish('fail') }, timeoutMs)
    req.on('error', () => finish('fail'))
    req.end()
  })
}
