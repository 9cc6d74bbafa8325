/**
 * `sessionscale compare a.json b.json`: reads two report.json files and
 * prints their run-by-run differences. Entry point: the only place here that
 * reads argv and files.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { compareReports, renderComparison } from './compare.js'
import { type Report, SCHEMA_VERSION } from './report-schema.js'
import { UsageError } from './usage-error.js'

const HELP = `Usage: sessionscale compare [--help] <a/report.json> <b/report.json>

Compares two benchmark reports run by run (matched by key strategy/policy/bN/cN):
req/s, p99 latency and CPU µs per request (total and instances), B against A.
A change smaller than the spread of repeated runs is marked "noise"
(default band ±5% for keys that were not repeated). Keys found in only one
report are listed as added or removed; differing config prints a warning.

Options:
  -h, --help  show this help
`

/** Something that takes text: process.stdout by default, a collector in tests. */
export interface Output { write: (text: string) => unknown }

/** Reads and checks one report file; every failure is a UsageError naming the file. */
export async function loadReport (file: string): Promise<Report> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new UsageError(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${(err as Error).message})`)
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${file}: not JSON (${(err as Error).message})`)
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UsageError(`${file}: not a sessionscale report (expected a JSON object)`)
  const version = (data as { schemaVersion?: unknown }).schemaVersion
  if (version !== SCHEMA_VERSION) {
    throw new UsageError(`${file}: schemaVersion ${JSON.stringify(version) ?? 'missing'}, this sessionscale reads schemaVersion ${SCHEMA_VERSION}`)
  }
  const r = data as Partial<Report>
  if (!Array.isArray(r.runs) || typeof r.config !== 'object' || r.config === null || typeof r.machine !== 'object' || r.machine === null) {
    throw new UsageError(`${file}: not a sessionscale report (runs, config or machine missing)`)
  }
  return data as Report
}

export async function run (argv: string[], out: Output = process.stdout): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { help: { type: 'boolean', short: 'h' } } })
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${HELP}`)
  }
  if (parsed.values.help === true) {
    out.write(HELP)
    return 0
  }
  const files = parsed.positionals
  if (files.length !== 2) throw new UsageError(`expected two report files, got ${files.length}\n\n${HELP}`)
  const [fa, fb] = files as [string, string]
  // One after the other, so with two bad files the error always names the first.
  const a = await loadReport(fa)
  const b = await loadReport(fb)
  out.write(renderComparison(compareReports(a, b), { a: `${fa} (${a.createdAt})`, b: `${fb} (${b.createdAt})` }))
  return 0
}
