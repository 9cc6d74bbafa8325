import t from 'tap'
import pino from 'pino'
import { startServer } from '../../servers/app.js'
import { Client, seededDb, TEST_SECRET } from './_helpers.js'

const logger = pino({ level: 'silent' })

t.test('startServer in-process: url, drain(), close()', async (t) => {
  const db = await seededDb(t)
  const srv = await startServer({ strategy: 'token', usersDbPath: db, secret: TEST_SECRET, id: 'inproc', logger })
  t.teardown(() => srv.close())
  t.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.equal(srv.url, `http://127.0.0.1:${srv.port}`)
  t.equal(srv.server.keepAliveTimeout, 65_000, 'outlives the balancer agent\'s 30 s idle sockets')
  t.equal(srv.server.headersTimeout, 66_000)
  const c = new Client(t, srv.url)
  const login = await c.login('user1', 'demo-1')
  t.equal(login.status, 200)
  srv.drain()
  t.equal(srv.draining, true)
  const h = await c.req('GET', '/healthz')
  t.equal(h.status, 503)
  t.same(h.body, { status: 'draining', id: 'inproc', strategy: 'token' })
  t.equal((await c.req('GET', '/api/me', { token: login.body.accessToken })).status, 200, 'still serving while draining')
  await srv.close()
  await t.rejects(fetch(`${srv.url}/healthz`), 'closed')
  await srv.close()
  t.pass('close() is idempotent')
})

t.test('startServer checks its options and releases everything when it cannot listen', async (t) => {
  const db = await seededDb(t)
  await t.rejects(startServer({ strategy: 'nope' as 'token', usersDbPath: db, logger }), /strategy must be one of/)
  await t.rejects(startServer({ strategy: 'token', usersDbPath: db, logger, port: -1 }), /port/)
  await t.rejects(startServer({ strategy: 'token', usersDbPath: db, logger, secret: 'short' }), /secret/)
  await t.rejects(startServer({ strategy: 'token', usersDbPath: db, logger, scryptN: 1000 }), /power of two/)
  const first = await startServer({ strategy: 'memory', usersDbPath: db, secret: TEST_SECRET, logger })
  t.teardown(() => first.close())
  await t.rejects(startServer({ strategy: 'memory', usersDbPath: db, secret: TEST_SECRET, logger, port: first.port }), { code: 'EADDRINUSE' })
})
