import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.js'

export interface RedisServerOptions {
  /** Keep an append-only file so a restart keeps every key. Default false: a restart loses everything. */
  persist?: boolean
  /** Path of the redis-server binary. Default 'redis-server' on PATH. */
  bin?: string
  /** How long to wait for it to accept connections, ms. Default 10000. */
  startTimeoutMs?: number
}

/** A private redis-server we started, on a free loopback port, with its own data folder. */
export interface RedisServer {
  readonly url: string
  readonly port: number
  /** PID of the current process (changes after restart()); undefined while stopped. */
  readonly pid: number | undefined
  /** Stop it (SIGTERM, then SIGKILL after 3 s). Idempotent. */
  stop: () => Promise<void>
  /** Start it again on the same port (after stop(), or stops it first). */
  restart: () => Promise<void>
  /** Stop it and remove its data folder. */
  close: () => Promise<void>
}

export class RedisUnavailableError extends Error {
  readonly code = 'ERR_REDIS_UNAVAILABLE'
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RedisUnavailableError'
  }
}

/** True when a redis-server binary can be run here. */
export function hasRedisServer (bin = 'redis-server'): boolean {
  const r = spawnSync(bin, ['--version'], { stdio: 'ignore' })
  return r.status === 0
}

function waitForPort (port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new RedisUnavailableError(`redis-server exited (${child.exitCode ?? child.signalCode}) before listening on ${port}`))
        return
      }
      const sock = net.connect(port, '127.0.0.1')
      sock.once('connect', () => {
        // Redis accepts TCP before it has loaded an AOF; PING answers only when ready.
        sock.write('PING\r\n')
        sock.once('data', (d) => {
          sock.destroy()
          if (d.toString().startsWith('+PONG')) resolve()
          else retry()
        })
      })
      sock.once('error', () => { sock.destroy(); retry() })
    }
    const retry = (): void => {
      if (Date.now() > deadline) reject(new RedisUnavailableError(`redis-server did not answer on port ${port} within ${timeoutMs} ms`))
      else setTimeout(attempt, 25)
    }
    attempt()
  })
}

/**
 * Start a private redis-server on a free loopback port. Its data lives in a
 * fresh temp folder; nothing is saved unless `persist` is set.
 */
export async function startRedisServer (opts: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = opts.bin ?? 'redis-server'
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000
  if (!hasRedisServer(bin)) {
    throw new RedisUnavailableError(`"${bin}" was not found: install it (apt-get install redis-server / brew install redis) or set REDIS_URL`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'sessionscale-redis-'))
  let child: ChildProcess | undefined
  let port = 0

  const launch = async (): Promise<void> => {
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--save', '', '--appendonly', opts.persist === true ? 'yes' : 'no',
      '--appendfsync', 'everysec', '--protected-mode', 'yes', '--daemonize', 'no',
      '--loglevel', 'warning', '--logfile', '',
    ]
    const c = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    c.stderr?.resume()
    child = c
    await waitForPort(port, startTimeoutMs, c)
  }

  // The probe port may be taken between probe and bind: try a few ports.
  let lastErr: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    port = await freePort()
    try {
      await launch()
      lastErr = undefined
      break
    } catch (err) {
      lastErr = err
      await stopChild()
    }
  }
  if (lastErr !== undefined) {
    rmSync(dir, { recursive: true, force: true })
    throw lastErr
  }

  async function stopChild (): Promise<void> {
    const c = child
    child = undefined
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    c.kill('SIGTERM')
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid () { return child?.pid },
    stop: stopChild,
    restart: async () => { await stopChild(); await launch() },
    close: async () => { await stopChild(); rmSync(dir, { recursive: true, force: true }) },
  }
}
