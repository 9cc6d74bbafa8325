import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

/** Path of the `sessionscale` launcher, for starting our own processes. */
export const CLI_PATH = fileURLToPath(new URL('./sessionscale.mjs', import.meta.url))

/** The one JSON line a long-running process prints once it listens (DESIGN.md). */
export interface ListeningLine {
  event: 'listening'
  service: string
  url: string
  pid: number
  id?: string
  strategy?: string
  adminUrl?: string
  [key: string]: unknown
}

export interface ServiceOptions {
  /** Milliseconds to wait for the listening line. Default 20000. */
  startTimeoutMs?: number
  /** Extra environment for the child. */
  env?: NodeJS.ProcessEnv
  /** Called with each stderr line (JSON logs). Default: keep the last 50 for error messages. */
  onStderr?: (line: string) => void
  /** Called with each stdout line after the listening line. */
  onStdout?: (line: string) => void
}

/** A child process of ours that printed its listening line. */
export interface Service {
  readonly info: ListeningLine
  readonly url: string
  readonly pid: number
  readonly child: ChildProcess
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** True once the process has exited. */
  readonly hasExited: boolean
  /** The last stderr lines, for error messages. */
  stderrTail: () => string
  /** Send a signal (only to this PID, which we started). No-op once it has exited. */
  kill: (signal?: NodeJS.Signals) => void
  /** SIGTERM (drain), then SIGKILL after `graceMs` (default 5000). Resolves when it has exited. */
  stop: (graceMs?: number) => Promise<void>
}

export class ServiceStartError extends Error {
  readonly code = 'ERR_SERVICE_START'
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ServiceStartError'
  }
}

/**
 * Start `sessionscale <args>` in its own process and wait for its listening line.
 * Rejects (and kills the child) when it exits first or takes too long.
 */
export function startService (args: string[], opts: ServiceOptions = {}): Promise<Service> {
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  })
  const tail: string[] = []
  createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line)
    if (tail.length > 50) tail.shift()
    opts.onStderr?.(line)
  })
  let exitedFlag = false
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => { exitedFlag = true; resolve({ code, signal }) })
  })
  const label = `sessionscale ${args.slice(0, 3).join(' ')}`

  return new Promise((resolve, reject) => {
    let settled = false
    const fail = (msg: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (!exitedFlag) child.kill('SIGKILL')
      reject(new ServiceStartError(`${label}: ${msg}${tail.length > 0 ? `\n${tail.slice(-10).join('\n')}` : ''}`))
    }
    const timer = setTimeout(() => fail(`no listening line within ${startTimeoutMs} ms`), startTimeoutMs)
    child.once('error', (err) => fail(`could not start: ${err.message}`))
    void exited.then(({ code, signal }) => fail(`exited (${code ?? signal}) before listening`))

    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (settled) { opts.onStdout?.(line); return }
      let info: ListeningLine
      try {
        info = JSON.parse(line) as ListeningLine
      } catch {
        return
      }
      if (info.event !== 'listening') return
      settled = true
      clearTimeout(timer)
      const service: Service = {
        info,
        url: info.url,
        pid: child.pid!,
        child,
        exited,
        get hasExited () { return exitedFlag },
        stderrTail: () => tail.join('\n'),
        kill: (signal = 'SIGTERM') => { if (!exitedFlag) child.kill(signal) },
        stop: async (graceMs = 5000) => {
          if (exitedFlag) return
          child.kill('SIGTERM')
          const t = setTimeout(() => { if (!exitedFlag) child.kill('SIGKILL') }, graceMs)
          await exited
          clearTimeout(t)
        },
      }
      resolve(service)
    })
  })
}
