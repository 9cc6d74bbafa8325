/**
 * Writes one benchmark's report directory: report.json (exactly the `Report`),
 * report.md and report.html. The directory is created if missing; existing
 * files of the same names are replaced.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Report } from './report-schema.js'
import { renderHtml } from './render-html.js'
import { renderMarkdown } from './render-markdown.js'

export interface ReportPaths { json: string, md: string, html: string }

export async function writeReport (report: Report, dir: string): Promise<ReportPaths> {
  await mkdir(dir, { recursive: true })
  const paths: ReportPaths = { json: join(dir, 'report.json'), md: join(dir, 'report.md'), html: join(dir, 'report.html') }
  // Render everything before writing anything, so a renderer bug leaves no half-written directory.
  const md = renderMarkdown(report)
  const html = renderHtml(report)
  await writeFile(paths.json, JSON.stringify(report, null, 2) + '\n')
  await writeFile(paths.md, md)
  await writeFile(paths.html, html)
  return paths
}
