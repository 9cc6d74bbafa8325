import pino, { type Logger } from 'pino'

/** JSON logs to stderr (stdout carries only the listening line). */
export function createLogger (opts: { level: string, base?: Record<string, unknown> }): Logger {
  return pino({ level: opts.level, base: { pid: process.pid, ...opts.base } }, pino.destination({ fd: 2, sync: false }))
}
