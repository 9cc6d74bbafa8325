import t, { type Test } from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { languageField, readJsonBody, stringField } from '../../servers/body.js'
import { HttpError } from '../../servers/errors.js'

/** A real server that answers what readJsonBody made of the request. */
async function bodyServer (t: Test, limit: number): Promise<string> {
  const server = http.createServer((req, res) => {
    readJsonBody(req, limit).then((body) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ ok: body }))
    }, (err: unknown) => {
      res.statusCode = err instanceof HttpError ? err.status : 500
      res.end(JSON.stringify({ code: (err as HttpError).code }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function post (url: string, body: string | Uint8Array | ReadableStream, contentType?: string): Promise<{ status: number, json: any }> {
  const headers: Record<string, string> = {}
  if (contentType !== undefined) headers['content-type'] = contentType
  const init: RequestInit & { duplex?: string } = { method: 'POST', headers, body }
  if (body instanceof ReadableStream) init.duplex = 'half'
  const res = await fetch(url, init)
  return { status: res.status, json: await res.json() }
}

t.test('readJsonBody', async (t) => {
  const url = await bodyServer(t, 1024)
  t.same(await post(url, '{"a":1}', 'application/json'), { status: 200, json: { ok: { a: 1 } } })
  t.same(await post(url, '{"a":1}', 'application/json; charset=utf-8'), { status: 200, json: { ok: { a: 1 } } }, 'charset allowed')
  t.same(await post(url, '{"a":1}', 'application/merge-patch+json'), { status: 200, json: { ok: { a: 1 } } }, '+json allowed')
  t.same(await post(url, '{"a":1}', 'text/plain'), { status: 415, json: { code: 'ERR_UNSUPPORTED_MEDIA_TYPE' } })
  t.same(await post(url, '{"a":1}'), { status: 415, json: { code: 'ERR_UNSUPPORTED_MEDIA_TYPE' } }, 'no content-type')
  t.same(await post(url, '{"a":', 'application/json'), { status: 400, json: { code: 'ERR_BAD_JSON' } })
  t.same(await post(url, '', 'application/json'), { status: 400, json: { code: 'ERR_BAD_JSON' } }, 'empty body')
  t.same(await post(url, '[1,2]', 'application/json'), { status: 400, json: { code: 'ERR_VALIDATION' } }, 'not an object')
  t.same(await post(url, JSON.stringify({ s: 'x'.repeat(2000) }), 'application/json'), { status: 413, json: { code: 'ERR_BODY_TOO_LARGE' } }, 'declared length over the limit')
  // Chunked (no content-length): the limit is enforced while streaming.
  const chunks = [new TextEncoder().encode('{"s":"' + 'x'.repeat(800)), new TextEncoder().encode('x'.repeat(800) + '"}')]
  const stream = new ReadableStream({ pull (c) { const next = chunks.shift(); if (next === undefined) c.close(); else c.enqueue(next) } })
  t.same(await post(url, stream, 'application/json'), { status: 413, json: { code: 'ERR_BODY_TOO_LARGE' } }, 'streamed over the limit')
  t.same(await post(url, '{"a":2}', 'application/json'), { status: 200, json: { ok: { a: 2 } } }, 'still serving after the oversized ones')
})

t.test('field validation', async (t) => {
  t.equal(stringField({ a: 'x' }, 'a'), 'x')
  t.throws(() => stringField({ a: 1 }, 'a'), { code: 'ERR_VALIDATION', message: /"a"/ })
  t.throws(() => stringField({}, 'a'), { code: 'ERR_VALIDATION' })
  t.throws(() => stringField({ a: 'xxxx' }, 'a', 3), { code: 'ERR_VALIDATION' })
  t.equal(languageField({ language: 'en' }), 'en')
  t.equal(languageField({ language: 'fr-CA' }), 'fr-CA')
  for (const bad of ['', 'english-language-tag', 'e', 'en_US', 42, '<script>']) {
    t.throws(() => languageField({ language: bad }), { code: 'ERR_VALIDATION' }, `rejects ${JSON.stringify(bad)}`)
  }
})
