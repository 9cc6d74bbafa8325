import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from '../bench/usage-error.js'

/** One flag: its parseArgs type, meaning and default, for --help. */
export interface FlagSpec {
  type: 'string' | 'boolean'
  help: string
  /** Shown in --help; the real default lives in defaults.ts. */
  default?: string
  short?: string
}

/** Parse argv strictly; unknown flags or missing values become UsageError naming the flag. */
export function parseFlags (argv: string[], flags: Record<string, FlagSpec>): Record<string, string | boolean | undefined> {
  const options: NonNullable<ParseArgsConfig['options']> = {}
  for (const [name, f] of Object.entries(flags)) options[name] = f.short === undefined ? { type: f.type } : { type: f.type, short: f.short }
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/** The --help text: usage line, then each flag with meaning and default. */
export function helpText (usage: string, flags: Record<string, FlagSpec>): string {
  const rows = Object.entries(flags).map(([name, f]) => {
    const left = `  ${f.short === undefined ? '' : `-${f.short}, `}--${name}${f.type === 'string' ? ' <value>' : ''}`
    return [left, f.help + (f.default === undefined ? '' : ` (default: ${f.default})`)] as const
  })
  const width = Math.max(...rows.map(([l]) => l.length))
  return `${usage}\n\nFlags:\n${rows.map(([l, r]) => `${l.padEnd(width)}  ${r}`).join('\n')}\n`
}

/** An integer flag value in [min, max], else UsageError naming the flag. */
export function intFlag (name: string, value: string | boolean | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got "${String(value)}"`)
  return n
}

/** A scrypt N flag: a power of two. */
export function scryptFlag (name: string, value: string | boolean | undefined): number | undefined {
  const n = intFlag(name, value, 2, 2 ** 20)
  if (n !== undefined && (n & (n - 1)) !== 0) throw new UsageError(`--${name} must be a power of two (e.g. 1024, 32768), got ${n}`)
  return n
}
