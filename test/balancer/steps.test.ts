import t from 'tap'
import type { IncomingHttpHeaders } from 'node:http'
import { classifyError, forwardHeaders, isIdempotent, shouldRetry } from '../../balancer/steps.js'
import { BadGatewayError, NoBackendError, UpstreamConnectError, UpstreamTimeoutError, errorBody } from '../../balancer/errors.js'

t.test('forwardHeaders strips client X-Forwarded-* / Forwarded and sets ours', async (t) => {
  const h: IncomingHttpHeaders = {
    host: 'app.example', 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil', 'x-forwarded-port': '1',
    forwarded: 'for=6.6.6.6', connection: 'close', 'keep-alive': 'timeout=1', expect: '100-continue', 'x-affinity': 'rebound', cookie: 'a=b', 'x-other': '1',
  }
  const conn = forwardHeaders(h, '127.0.0.9', false)
  t.equal(conn, 'close', 'client Connection kept for the response side')
  t.same(h, { host: 'app.example', cookie: 'a=b', 'x-other': '1', 'x-forwarded-for': '127.0.0.9', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'app.example' })
  const tls: IncomingHttpHeaders = {}
  forwardHeaders(tls, '::1', true)
  t.equal(tls['x-forwarded-proto'], 'https')
})

t.test('classifyError', async (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
  t.equal(classifyError(refused, { connected: false, responded: false }, 's1').code, 'ERR_UPSTREAM_CONNECT')
  t.equal(classifyError(reset, { connected: false, responded: false }, 's1').code, 'ERR_UPSTREAM_CONNECT', 'reset before connect never reached it')
  t.equal(classifyError(reset, { connected: true, responded: false }, 's1').code, 'ERR_BAD_GATEWAY')
  const timeout = new UpstreamTimeoutError()
  t.equal(classifyError(timeout, { connected: true, responded: false }, 's1'), timeout)
})

t.test('shouldRetry: never a double POST', async (t) => {
  const base = { replayable: true, responseStarted: false, attempts: 1, maxAttempts: 3 }
  const connect = new UpstreamConnectError()
  const reset = new BadGatewayError()
  t.ok(shouldRetry({ ...base, error: connect, method: 'POST' }), 'never reached: any method')
  t.ok(shouldRetry({ ...base, error: connect, method: 'GET' }))
  t.notOk(shouldRetry({ ...base, error: reset, method: 'POST' }), 'POST that may have reached the backend: never again')
  t.notOk(shouldRetry({ ...base, error: reset, method: 'PATCH' }))
  for (const m of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']) t.ok(shouldRetry({ ...base, error: reset, method: m }), `${m} after reset`)
  t.notOk(shouldRetry({ ...base, error: reset, method: 'GET', responseStarted: true }), 'not once bytes reached the client')
  t.notOk(shouldRetry({ ...base, error: connect, method: 'GET', replayable: false }), 'not with a streamed body')
  t.notOk(shouldRetry({ ...base, error: connect, method: 'GET', attempts: 3 }), 'attempt limit')
  t.notOk(shouldRetry({ ...base, error: new UpstreamTimeoutError(), method: 'GET' }), 'not after a timeout')
  t.ok(isIdempotent('PUT'))
  t.notOk(isIdempotent(undefined))
})

t.test('errors map to status and JSON body with a stable code', async (t) => {
  t.same(errorBody(new NoBackendError()).status, 503)
  t.same(JSON.parse(errorBody(new UpstreamTimeoutError()).body).error.code, 'ERR_UPSTREAM_TIMEOUT')
  t.same(errorBody(new UpstreamTimeoutError()).status, 504)
  t.same(errorBody(new BadGatewayError()).status, 502)
  t.same(errorBody(new Error('x')).status, 500)
})
