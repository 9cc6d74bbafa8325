import { Redis } from 'ioredis'

/** What the bench reads from Redis around a run: command counts, memory and its PID. */
export interface RedisStats {
  /** Calls per command name (INFO commandstats), the bench's own INFO calls left out. */
  commands: Record<string, number>
  usedMemory: number
  pid: number | undefined
}

function parseInfo (text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':')
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1))
  }
  return out
}

/** A small client for INFO; fails fast rather than waiting for a Redis that is gone. */
export class RedisStatsReader {
  private readonly client: Redis
  constructor (url: string) {
    this.client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 2000, enableOfflineQueue: true, retryStrategy: () => 200 })
    this.client.on('error', () => {})
  }

  async read (): Promise<RedisStats> {
    const [stats, memory, server] = await Promise.all([
      this.client.info('commandstats'), this.client.info('memory'), this.client.info('server'),
    ])
    const commands: Record<string, number> = {}
    for (const [k, v] of parseInfo(stats)) {
      if (!k.startsWith('cmdstat_')) continue
      const name = k.slice('cmdstat_'.length)
      if (name === 'info') continue
      const calls = /calls=(\d+)/.exec(v)
      if (calls !== null) commands[name] = Number(calls[1])
    }
    const pid = Number(parseInfo(server).get('process_id'))
    return { commands, usedMemory: Number(parseInfo(memory).get('used_memory') ?? 0), pid: Number.isFinite(pid) ? pid : undefined }
  }

  /** Empty the private Redis between clusters, so memory figures start clean. Never call on REDIS_URL. */
  async flush (): Promise<void> {
    await this.client.flushall()
  }

  async version (): Promise<string> {
    return parseInfo(await this.client.info('server')).get('redis_version') ?? 'unknown'
  }

  async close (): Promise<void> {
    this.client.disconnect()
  }
}

/** Command-count delta between two reads. */
export function commandDelta (before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0)
    if (d > 0) out[k] = d
  }
  return out
}
