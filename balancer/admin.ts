/**
 * The admin API, on its own loopback port:
 *   GET    /_lb/status                 JSON status of the pool
 *   GET    /metrics                    Prometheus text
 *   POST   /_lb/backends               {"id","url"} add a backend
 *   DELETE /_lb/backends/<id>          remove a backend
 *   POST   /_lb/backends/<id>/drain    keep pinned users, no new ones
 *   POST   /_lb/backends/<id>/enable   undo drain
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { AdminInputError, NotFoundError, errorBody } from './errors.js'
import type { Backend, Pool } from './pool.js'
import type { BalancerMetrics } from './metrics.js'

export interface BackendStatus {
  id: string
  url: string
  state: string
  inFlight: number
  requests: number
  failures: number
  retries: number
  rebounds: number
  /** Estimated users pinned here: cookies issued for it minus users re-pinned away (upper bound). */
  pinned: number
}

export interface StatusBody {
  policy: string
  backends: BackendStatus[]
  totals: { requests: number, inFlight: number, failures: number, retries: number, rebounds: number, localErrors: number }
}

export function backendStatus (b: Backend): BackendStatus {
  return { id: b.id, url: b.url, state: b.state, inFlight: b.inFlight, requests: b.requests, failures: b.failures, retries: b.retries, rebounds: b.rebounds, pinned: b.pinned }
}

export function statusBody (policy: string, pool: Pool, totals: { rebounds: number, localErrors: number }): StatusBody {
  const backends = pool.backends.map(backendStatus)
  const sum = (k: 'requests' | 'inFlight' | 'failures' | 'retries'): number => backends.reduce((a, b) => a + b[k], 0)
  return { policy, backends, totals: { requests: sum('requests'), inFlight: sum('inFlight'), failures: sum('failures'), retries: sum('retries'), rebounds: totals.rebounds, localErrors: totals.localErrors } }
}

const MAX_ADMIN_BODY = 16 * 1024

function readJson (req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => {
      body += c
      if (body.length > MAX_ADMIN_BODY) { reject(new AdminInputError('body too large')); req.destroy() }
    })
    req.on('end', () => {
      try { resolve(JSON.parse(body)) } catch { reject(new AdminInputError('body must be JSON {"id","url"}')) }
    })
    req.on('error', reject)
  })
}

function send (res: ServerResponse, status: number, body: unknown, type = 'application/json; charset=utf-8'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}

export function adminHandler (deps: { pool: Pool, metrics: BalancerMetrics, status: () => StatusBody }) {
  const { pool, metrics } = deps
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const path = (req.url ?? '/').split('?')[0]!
      const parts = path.split('/').filter(Boolean)
      const method = req.method ?? 'GET'
      if (path === '/_lb/status' && method === 'GET') return send(res, 200, deps.status())
      if (path === '/metrics' && method === 'GET') return send(res, 200, await metrics.registry.metrics(), metrics.registry.contentType)
      if (parts[0] === '_lb' && parts[1] === 'backends') {
        if (parts.length === 2 && method === 'POST') {
          const body = await readJson(req) as { id?: unknown, url?: unknown } | null
          if (body === null || typeof body !== 'object') throw new AdminInputError('body must be a JSON object {"id","url"}')
          if (typeof body.url !== 'string') throw new AdminInputError('url must be a string (http://host:port)')
          if (typeof body.id !== 'string') throw new AdminInputError('id must be a string')
          return send(res, 201, backendStatus(pool.add(body.id, body.url)))
        }
        const id = parts[2] !== undefined ? decodeURIComponent(parts[2]) : undefined
        if (id !== undefined && parts.length === 3 && method === 'DELETE') return send(res, 200, backendStatus(pool.remove(id)))
        if (id !== undefined && parts.length === 4 && method === 'POST' && parts[3] === 'drain') return send(res, 200, backendStatus(pool.drain(id)))
        if (id !== undefined && parts.length === 4 && method === 'POST' && parts[3] === 'enable') return send(res, 200, backendStatus(pool.enable(id)))
      }
      throw new NotFoundError(`no admin route ${method} ${path}`)
    } catch (err) {
      const { status, body } = errorBody(err)
      if (!res.headersSent) send(res, status, body)
    }
  }
}
