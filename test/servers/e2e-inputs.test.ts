import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_PATH } from '../../bench/service.js'
import { demoCredentials } from '../../servers/users-db.js'
import { run as serverMain } from '../../servers/main.js'
import { run as seedMain } from '../../servers/seed-main.js'
import { Client, seededDb, startInstance } from './_helpers.js'

t.test('bad input through real HTTP', async (t) => {
  const db = await seededDb(t)
  const svc = await startInstance(t, 'memory', db)
  const c = new Client(t, svc.url)

  t.test('wrong password and unknown user get the same 401', async (t) => {
    const wrong = await c.login('user10', 'not-the-password')
    const unknown = await c.login('no-such-user', 'not-the-password')
    t.equal(wrong.status, 401)
    t.equal(unknown.status, 401)
    t.equal(wrong.body.error.code, 'ERR_INVALID_CREDENTIALS')
    t.same(unknown.body, wrong.body, 'identical bodies')
  })

  t.test('5 failures in a row → 429 with Retry-After; other users and successes unaffected', async (t) => {
    const { username, password } = demoCredentials(11)
    for (let i = 0; i < 5; i++) t.equal((await c.login(username, 'bad-password')).status, 401)
    const blocked = await c.login(username, 'bad-password')
    t.equal(blocked.status, 429)
    t.equal(blocked.body.error.code, 'ERR_TOO_MANY_ATTEMPTS')
    t.match(blocked.headers.get('retry-after'), /^\d+$/)
    t.ok(Number(blocked.headers.get('retry-after')) > 0)
    t.equal((await c.login(username, password)).status, 429, 'even the right password while blocked')
    const other = demoCredentials(12)
    t.equal((await c.login(other.username, other.password)).status, 200, 'another user from the same address is not throttled')
    // Many successful logins from one address never count.
    for (let i = 13; i < 23; i++) t.equal((await c.login(demoCredentials(i).username, demoCredentials(i).password)).status, 200)
  })

  t.test('malformed JSON → 400 ERR_BAD_JSON', async (t) => {
    const r = await c.req('POST', '/auth/login', { body: '{"username": "user1", ', contentType: 'application/json' })
    t.equal(r.status, 400)
    t.equal(r.body.error.code, 'ERR_BAD_JSON')
  })

  t.test('missing or wrongly typed fields → 400 ERR_VALIDATION', async (t) => {
    const r = await c.req('POST', '/auth/login', { json: { username: 'user1' } })
    t.equal(r.status, 400)
    t.equal(r.body.error.code, 'ERR_VALIDATION')
    const r2 = await c.req('POST', '/auth/login', { json: { username: ['user1'], password: 'x' } })
    t.equal(r2.body.error.code, 'ERR_VALIDATION')
    const r3 = await c.req('POST', '/auth/login', { json: [1, 2] })
    t.equal(r3.body.error.code, 'ERR_VALIDATION')
  })

  t.test('non-JSON content type → 415', async (t) => {
    const r = await c.req('POST', '/auth/login', { body: 'username=user1&password=demo-1', contentType: 'application/x-www-form-urlencoded' })
    t.equal(r.status, 415)
    t.equal(r.body.error.code, 'ERR_UNSUPPORTED_MEDIA_TYPE')
    const r2 = await c.req('POST', '/auth/refresh', { body: 'x', contentType: 'text/plain' })
    t.equal(r2.status, 415)
  })

  t.test('body over 16 KiB → 413, and the instance keeps serving', async (t) => {
    const r = await c.req('POST', '/auth/login', { json: { username: 'user1', password: 'x'.repeat(20 * 1024) } })
    t.equal(r.status, 413)
    t.equal(r.body.error.code, 'ERR_BODY_TOO_LARGE')
    t.equal((await c.req('GET', '/healthz')).status, 200)
  })

  t.test('unknown route → 404, wrong method → 405', async (t) => {
    const r = await c.req('GET', '/nope')
    t.equal(r.status, 404)
    t.equal(r.body.error.code, 'ERR_NOT_FOUND')
    t.equal(r.headers.get('x-instance-id'), 's1')
    const m = await c.req('GET', '/auth/login')
    t.equal(m.status, 405)
    t.equal(m.body.error.code, 'ERR_METHOD_NOT_ALLOWED')
    t.equal(m.headers.get('allow'), 'POST')
    t.equal((await c.req('DELETE', '/api/me')).status, 405)
    t.equal((await c.req('POST', '/healthz')).status, 405)
  })

  t.test('the balancer\'s x-affinity: rebound header is tolerated', async (t) => {
    const u = new Client(t, svc.url)
    await u.login('user30', 'demo-30')
    const r = await u.req('GET', '/api/me', { headers: { 'x-affinity': 'rebound' } })
    t.equal(r.status, 200)
  })
})

t.test('CLI: --help, bad flags, seed summary', async (t) => {
  const run = (args: string[]): { status: number | null, stdout: string, stderr: string } => {
    const r = spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: 'utf8', timeout: 30_000 })
    return { status: r.status, stdout: r.stdout, stderr: r.stderr }
  }
  const help = run(['server', '--help'])
  t.equal(help.status, 0)
  for (const flag of ['--strategy', '--port', '--host', '--id', '--redis-url', '--users', '--secret', '--scrypt-cost', '--seed-users', '--drain-ms']) {
    t.match(help.stdout, flag, `help lists ${flag}`)
  }
  t.match(help.stdout, /default: 3000/)
  const badPort = run(['server', '--strategy', 'memory', '--port', 'abc'])
  t.equal(badPort.status, 2, 'a usage error exits 2')
  t.match(badPort.stderr, /--port/)
  t.notMatch(badPort.stderr, '    at ')
  // The rest in-process (each spawn costs a second of CPU): every bad flag is a UsageError naming it.
  for (const [args, flag] of [
    [['--strategy', 'cookies'], '--strategy'],
    [[], '--strategy'],
    [['--strategy', 'memory', '--nope'], '--nope'],
    [['--strategy', 'memory', '--port', '70000'], '--port'],
    [['--strategy', 'memory', '--drain-ms', '-1'], '--drain-ms'],
    [['--strategy', 'memory', '--scrypt-cost', '1000'], '--scrypt-cost'],
    [['--strategy', 'memory', '--redis-url', 'localhost:6379'], '--redis-url'],
    [['--strategy', 'memory', '--secret', 'short'], '--secret'],
    [['--strategy', 'memory', '--id', 'has space'], '--id'],
    [['--strategy', 'memory', '--log-level', 'loud'], '--log-level'],
  ] as const) {
    await t.rejects(serverMain([...args]), { code: 'ERR_USAGE', exitCode: 2, message: new RegExp(flag) }, `server ${args.join(' ')}`)
  }
  await t.rejects(seedMain(['--scrypt-cost', '1000']), { code: 'ERR_USAGE', message: /--scrypt-cost/ })
  await t.rejects(seedMain(['--users', 'many']), { code: 'ERR_USAGE', message: /--users/ })

  const dir = mkdtempSync(join(tmpdir(), 'sessionscale-seed-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const seeded = run(['seed', '--db', join(dir, 'u.db'), '--users', '20', '--scrypt-cost', '1024'])
  t.equal(seeded.status, 0, seeded.stderr)
  const lines = seeded.stdout.trim().split('\n')
  t.equal(lines.length, 1, 'one JSON line')
  t.match(JSON.parse(lines[0]!), { event: 'seeded', users: 20, scrypt: { N: 1024, r: 8, p: 1 } })
})
