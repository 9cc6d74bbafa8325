import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { LoadConfig, LoadCounters, LoadResult, ParentMessage, WorkerMessage } from './load-plan.js'

const WORKER = fileURLToPath(new URL('./load-worker.ts', import.meta.url))
// Resolved from here, not from the cwd: `sessionscale` may run from any folder.
const TSX = import.meta.resolve('tsx')

export interface LoadHooks {
  /** Called once every user has logged in (end of warm-up), before the measured phase starts. */
  onWarm?: (warm: LoadResult) => Promise<void> | void
  /** Called when the measured phase starts (right after 'go'). */
  onStart?: () => void
  /** Called with the measured result while the load process is still alive (sample its CPU here). */
  onDone?: (result: LoadResult) => void
  /** Called with cumulative counters every `config.tickMs`. */
  onTick?: (tick: { elapsedMs: number, counters: LoadCounters, pinnedByInstance: Record<string, number>, latencyP99Ms: number }) => void
}

/** A load process of ours (autocannon in its own process). */
export interface LoadProcess {
  readonly pid: number
  /** Runs warm-up then the measured phase; resolves with the measured result. */
  readonly result: Promise<LoadResult>
  /** End the current phase early (the result still arrives). */
  stop: () => void
  /** Kill the process (cleanup on Ctrl-C or error). */
  kill: () => void
}

/** Start one load run in its own process. */
export function startLoad (config: LoadConfig, hooks: LoadHooks = {}): LoadProcess {
  const child: ChildProcess = fork(WORKER, [], {
    execArgv: ['--import', TSX],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const post = (msg: ParentMessage): void => { if (child.connected) child.send(msg) }
  const result = new Promise<LoadResult>((resolve, reject) => {
    let done = false
    child.on('message', (msg: WorkerMessage) => {
      switch (msg.type) {
        case 'warm':
          void (async () => {
            try {
              await hooks.onWarm?.(msg.result)
              hooks.onStart?.()
              post({ type: 'go' })
            } catch (err) {
              done = true
              child.kill('SIGKILL')
              reject(err)
            }
          })()
          break
        case 'tick':
          hooks.onTick?.(msg)
          break
        case 'done':
          done = true
          try {
            hooks.onDone?.(msg.result)
          } finally {
            child.disconnect()
          }
          resolve(msg.result)
          break
        case 'error':
          done = true
          child.kill('SIGKILL')
          reject(new Error(`load generator failed: ${msg.message}`))
          break
      }
    })
    child.once('exit', (code, signal) => {
      if (!done) reject(new Error(`load generator exited (${code ?? signal}) before finishing`))
    })
  })
  // Without warm-up the measured phase starts at once.
  if (config.warmupSec === 0) hooks.onStart?.()
  post({ type: 'start', config })
  return {
    pid: child.pid!,
    result,
    stop: () => post({ type: 'stop' }),
    kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') },
  }
}
