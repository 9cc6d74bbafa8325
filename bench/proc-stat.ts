import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const CLK_TCK = 100

export interface ProcSample {
  /** user + system CPU time in microseconds. */
  cpuUs: number
  /** Resident set size in bytes. */
  rssBytes: number
}

/**
 * CPU time and RSS of one process, read from /proc/<pid>/stat (Linux only).
 * Returns undefined when the process is gone or /proc is missing.
 */
export function sampleProcess (pid: number): ProcSample | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // Fields after the name start at field 3 (state) → index 0.
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  const rssPages = Number(fields[21])
  return { cpuUs: ((utime + stime) * 1e6) / CLK_TCK, rssBytes: rssPages * 4096 }
}

/** Whole-machine CPU counters from /proc/stat, to tell how busy the machine was. */
export interface MachineSample {
  /** Sum of all jiffies (all CPUs). */
  total: number
  /** Idle + iowait jiffies. */
  idle: number
}

export function sampleMachine (): MachineSample | undefined {
  let text: string
  try {
    text = readFileSync('/proc/stat', 'utf8')
  } catch {
    return undefined
  }
  const line = text.split('\n').find((l) => l.startsWith('cpu '))
  if (line === undefined) return undefined
  const n = line.trim().split(/\s+/).slice(1).map(Number)
  const total = n.reduce((a, b) => a + b, 0)
  return { total, idle: (n[3] ?? 0) + (n[4] ?? 0) }
}
