/**
 * The load process: autocannon in its own process, so the load generator never
 * shares an event loop with what it measures. Each connection is one user who
 * logs in once and then sends authenticated requests; a 401 makes that user
 * log in again, counted as a re-login (a lost session).
 *
 * Protocol (IPC, see load-plan.ts): parent sends 'start' → worker warms up
 * (all users log in) and sends 'warm' → parent samples CPU and sends 'go' →
 * worker runs the measured phase and sends 'done'. 'stop' ends a phase early.
 */
import type { IncomingHttpHeaders } from 'node:http'
import autocannon from 'autocannon'
import { demoCredentials } from '../servers/users-db.js'
import { emptyCounters, type LoadConfig, type LoadCounters, type LoadResult, type ParentMessage, type WorkerMessage } from './load-plan.js'

type Kind = 'login' | 'me' | 'write'

interface User {
  index: number
  cookies: Map<string, string>
  accessToken: string
  csrfToken: string
  loggedIn: boolean
  kind: Kind
  /** Language this user last set successfully; '' before any write. */
  language: string
  relogged: boolean
  moved: boolean
  lostPreferences: boolean
  /** The instance that served this user last. */
  instance: string
  /** A request was built and its answer has not come back yet. */
  pending: boolean
}

const LANGUAGES = ['en', 'fr', 'de', 'es', 'it', 'nl', 'pt', 'sv']

/** Users persist across the warm-up and measured phases: they log in once. */
const users = new Map<number, User>()

function send (msg: WorkerMessage): void {
  process.send?.(msg)
}

function percentile (sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i]!
}

/** Grows as responses arrive; sub-millisecond latencies (autocannon's own histogram keeps whole ms). */
class Samples {
  private data = new Float64Array(1 << 16)
  length = 0
  push (v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.length++] = v
  }

  summary (from = 0): LoadResult['latencyMs'] {
    const s = this.data.slice(from, this.length).sort()
    let sum = 0
    for (const v of s) sum += v
    const r = (v: number): number => Math.round(v * 1000) / 1000
    return { mean: r(s.length > 0 ? sum / s.length : 0), p50: r(percentile(s, 0.5)), p90: r(percentile(s, 0.9)), p99: r(percentile(s, 0.99)), max: r(s.length > 0 ? s[s.length - 1]! : 0) }
  }
}

/**
 * One pass over a response's headers: Set-Cookie lines update the user's jar,
 * and the x-instance-id that served it is returned. Names arrive as sent.
 */
function readResponseHeaders (user: User, headers: Record<string, string | string[]>): string | undefined {
  let served: string | undefined
  for (const name in headers) {
    const value = headers[name]!
    const lower = name.toLowerCase()
    if (lower === 'x-instance-id') { served = Array.isArray(value) ? value[0] : value; continue }
    if (lower !== 'set-cookie') continue
    for (const line of Array.isArray(value) ? value : [value]) {
      const pair = line.split(';', 1)[0] ?? ''
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const key = pair.slice(0, eq).trim()
      const val = pair.slice(eq + 1).trim()
      // An expired cookie (logout) clears the jar entry.
      if (val === '' || /expires=Thu, 01 Jan 1970/i.test(line)) user.cookies.delete(key)
      else user.cookies.set(key, val)
    }
  }
  return served
}

function cookieHeader (user: User): string {
  let out = ''
  for (const [k, v] of user.cookies) out += (out === '' ? '' : '; ') + `${k}=${v}`
  return out
}

function runPhase (config: LoadConfig, durationSec: number, measured: boolean): Promise<LoadResult> {
  const counters: LoadCounters = emptyCounters()
  const latencies = new Samples()
  let clientCount = 0
  const started = Date.now()

  const instance = autocannon({
    url: config.url,
    connections: config.connections,
    duration: durationSec,
    timeout: config.timeoutSec,
    pipelining: 1,
    // Each client gets its own request object whose closure holds its user:
    // autocannon resets `context` whenever a requests array wraps.
    setupClient: (client: autocannon.Client) => {
      const index = config.userOffset + 1 + (clientCount++ % config.connections)
      let user = users.get(index)
      if (user === undefined) {
        user = { index, cookies: new Map(), accessToken: '', csrfToken: '', loggedIn: false, kind: 'login', language: '', relogged: false, moved: false, lostPreferences: false, instance: '', pending: false }
        users.set(index, user)
      }
      const u = user
      const creds = JSON.stringify(demoCredentials(index))
      client.setRequests([{
        method: 'GET',
        path: '/api/me',
        setupRequest: (req: autocannon.Request) => {
          u.pending = true
          const headers: Record<string, string> = {}
          const cookies = cookieHeader(u)
          if (cookies !== '') headers['cookie'] = cookies
          if (!u.loggedIn) {
            u.kind = 'login'
            headers['content-type'] = 'application/json'
            return { ...req, method: 'POST', path: '/auth/login', headers, body: creds }
          }
          if (config.auth === 'token') headers['authorization'] = `Bearer ${u.accessToken}`
          if (config.writeRatio > 0 && Math.random() < config.writeRatio) {
            u.kind = 'write'
            headers['content-type'] = 'application/json'
            if (config.auth === 'cookie') headers['x-csrf-token'] = u.csrfToken
            const language = LANGUAGES[Math.floor(Math.random() * LANGUAGES.length)]!
            return { ...req, method: 'PUT', path: '/api/preferences', headers, body: JSON.stringify({ language }) }
          }
          u.kind = 'me'
          return { ...req, method: 'GET', path: '/api/me', headers, body: undefined }
        },
        onResponse: (status: number, body: string, _context: object, rawHeaders: IncomingHttpHeaders | undefined) => {
          const headers = (rawHeaders ?? {}) as Record<string, string | string[]>
          u.pending = false
          const served = readResponseHeaders(u, headers)
          if (served !== undefined) {
            if (u.instance !== '' && u.instance !== served && !u.moved) { u.moved = true; counters.usersMoved++ }
            u.instance = served
            counters.byInstance[served] = (counters.byInstance[served] ?? 0) + 1
          }
          counters.responses++
          const key = String(status)
          counters.status[key] = (counters.status[key] ?? 0) + 1
          if (u.kind === 'login') {
            if (status >= 200 && status < 300) {
              counters.logins++
              const data = JSON.parse(body) as { accessToken?: string, csrfToken?: string }
              u.accessToken = data.accessToken ?? ''
              u.csrfToken = data.csrfToken ?? ''
              u.loggedIn = true
            }
            return
          }
          if (status === 401) {
            // The session or token is no longer accepted: this user must log in again.
            u.loggedIn = false
            counters.relogins++
            if (!u.relogged) { u.relogged = true; counters.usersRelogged++ }
            return
          }
          if (status >= 200 && status < 300) {
            counters.ok++
            if (u.kind === 'write') {
              counters.writes++
              const data = JSON.parse(body) as { language?: string, accessToken?: string }
              if (data.accessToken !== undefined) u.accessToken = data.accessToken
              if (data.language !== undefined) u.language = data.language
            } else if (config.verifyPreferences && u.language !== '') {
              const data = JSON.parse(body) as { language?: string }
              if (data.language !== u.language && !u.lostPreferences) {
                u.lostPreferences = true
                counters.preferencesLost++
              }
            }
          } else if (u.kind === 'me' && status >= 500) {
            counters.failedGets++
          }
        },
      }])
    },
  } as autocannon.Options, () => {})

  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    latencies.push(responseTime)
  })
  instance.on('reqError', (err: Error) => {
    if (err.message === 'request timed out') counters.timeouts++
    else counters.errors++
  })
  let tick: NodeJS.Timeout | undefined
  let lastTickLatency = 0
  if (measured && config.tickMs > 0) {
    tick = setInterval(() => {
      const p99 = latencies.summary(lastTickLatency).p99
      lastTickLatency = latencies.length
      send({ type: 'tick', elapsedMs: Date.now() - started, counters: structuredClone(counters), pinnedByInstance: pinned(config), latencyP99Ms: p99 })
    }, config.tickMs)
  }
  const stopListener = (msg: ParentMessage): void => { if (msg.type === 'stop') instance.stop() }
  process.on('message', stopListener)

  return new Promise((resolve, reject) => {
    instance.once('done', () => {
      if (tick !== undefined) clearInterval(tick)
      // A write still in flight when the phase stopped may have been applied
      // without us seeing the answer: forget what we expect until the next write.
      for (const u of users.values()) {
        if (u.pending && u.kind === 'write') u.language = ''
        u.pending = false
      }
      process.off('message', stopListener)
      let usersLoggedIn = 0
      for (let i = config.userOffset + 1; i <= config.userOffset + config.connections; i++) if (users.get(i)?.loggedIn === true) usersLoggedIn++
      resolve({ ...counters, durationSec: (Date.now() - started) / 1000, latencyMs: latencies.summary(), usersLoggedIn, pinnedByInstance: pinned(config) })
    })
    instance.once('error', reject)
  })
}

/** Users per instance that served them last: who is pinned where. */
function pinned (config: LoadConfig): Record<string, number> {
  const out: Record<string, number> = {}
  for (let i = config.userOffset + 1; i <= config.userOffset + config.connections; i++) {
    const u = users.get(i)
    if (u !== undefined && u.instance !== '' && u.loggedIn) out[u.instance] = (out[u.instance] ?? 0) + 1
  }
  return out
}

function waitFor (type: ParentMessage['type']): Promise<void> {
  return new Promise((resolve) => {
    const f = (msg: ParentMessage): void => {
      if (msg.type === type) { process.off('message', f); resolve() }
    }
    process.on('message', f)
  })
}

process.on('message', (msg: ParentMessage) => {
  if (msg.type !== 'start') return
  const config = msg.config
  void (async () => {
    try {
      if (config.warmupSec > 0) {
        const warm = await runPhase(config, config.warmupSec, false)
        send({ type: 'warm', result: warm })
        await waitFor('go')
      }
      const result = await runPhase(config, config.durationSec, true)
      send({ type: 'done', result })
    } catch (err) {
      send({ type: 'error', message: (err as Error).message })
    }
  })()
})
// The parent owns this process: when it goes away, so do we.
process.on('disconnect', () => process.exit(0))
