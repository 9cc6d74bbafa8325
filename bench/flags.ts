import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from './usage-error.js'

/** Parse a comma list of positive integers, naming the flag on error. */
export function intList (flag: string, value: string, min = 1): number[] {
  const parts = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (parts.length === 0) throw new UsageError(`${flag} needs at least one number`)
  return parts.map((p) => {
    const n = Number(p)
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be whole numbers >= ${min} (got "${p}")`)
    return n
  })
}

export function number (flag: string, value: string, min: number, max = Infinity): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a number ${max === Infinity ? `>= ${min}` : `from ${min} to ${max}`} (got "${value}")`)
  }
  return n
}

export function oneOf<T extends string> (flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got "${value}")`)
  return value as T
}

export function listOf<T extends string> (flag: string, value: string, allowed: readonly T[]): T[] {
  const parts = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (parts.length === 0) throw new UsageError(`${flag} needs at least one of ${allowed.join(', ')}`)
  return [...new Set(parts.map((p) => oneOf(flag, p, allowed)))]
}

/**
 * node:util parseArgs, strict, no positionals; its errors (unknown flag, a
 * flag without its value) become usage errors that name the flag.
 */
export function parseFlags<const O extends NonNullable<ParseArgsConfig['options']>> (args: string[], options: O): ReturnType<typeof parseArgs<{ args: string[], options: O, strict: true, allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values
  } catch (err) {
    const e = err as { code?: string, message?: string }
    if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) throw new UsageError(e.message ?? String(err))
    throw err
  }
}

export function formatDuration (sec: number): string {
  const s = Math.max(0, Math.round(sec))
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}
