import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import type { Report } from './report-schema.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

export function machineFacts (): Report['machine'] {
  const cpus = os.cpus()
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemBytes: os.totalmem(),
    platform: os.platform(),
    arch: os.arch(),
    kernel: os.release(),
    loadAvg1: Math.round(os.loadavg()[0]! * 100) / 100,
  }
}

function pkgVersion (dir: string): string {
  try {
    return (JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

/** Versions of Node, this project and the packages whose cost we measure. */
export function versionsOf (): Record<string, string> {
  const out: Record<string, string> = { node: process.versions.node, sessionscale: pkgVersion(ROOT) }
  for (const p of ['koa', 'koa-session', 'ioredis', 'http-proxy', 'autocannon', 'better-sqlite3']) out[p] = pkgVersion(`${ROOT}node_modules/${p}`)
  const redis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  const m = /v=(\S+)/.exec(redis.stdout ?? '')
  if (m !== null) out['redis-server'] = m[1]!
  return out
}
