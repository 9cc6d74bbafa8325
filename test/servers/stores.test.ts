import t from 'tap'
import { Redis } from 'ioredis'
import pino from 'pino'
import { StoreUnavailableError } from '../../servers/errors.js'
import { createRedisClient, waitReady } from '../../servers/redis-client.js'
import { MemoryStore } from '../../servers/stores/memory-store.js'
import { RedisStore } from '../../servers/stores/redis-store.js'
import { LoginThrottle } from '../../servers/throttle.js'
import { redisUrl } from '../helpers/redis.js'

const o = { rolling: false, changed: true, ctx: undefined }

t.test('MemoryStore honours maxAge and indexes sessions per user', async (t) => {
  let now = 1_000_000
  const store = new MemoryStore({ now: () => now })
  t.teardown(() => store.close())
  await store.set('a', { uid: 1, csrf: 'x' }, 1000, o)
  await store.set('b', { uid: 1 }, 5000, o)
  await store.set('c', { uid: 2 }, 5000, o)
  t.same(await store.get('a', 0, o), { uid: 1, csrf: 'x' })
  now += 1500
  t.equal(await store.get('a', 0, o), undefined, 'expired after maxAge')
  await store.set('d', { uid: 1 }, 5000, o)
  t.equal(await store.destroyOthers(1, 'd'), 1, 'only b was left to revoke (a expired)')
  t.equal(await store.get('b', 0, o), undefined)
  t.ok(await store.get('d', 0, o), 'the kept session survives')
  t.ok(await store.get('c', 0, o), 'other users untouched')
  await store.destroy('d', o)
  t.equal(await store.get('d', 0, o), undefined)
  now += 10_000
  store.sweep()
  t.equal(store.size, 0, 'sweep drops expired sessions')
})

t.test('RedisStore stores with TTL, indexes per user, fails fast with 503 when Redis is unreachable', async (t) => {
  const url = await redisUrl(t)
  if (url === undefined) return
  const logger = pino({ level: 'silent' })
  const client = createRedisClient({ url, commandTimeoutMs: 500, retryMs: 200, logger })
  t.teardown(() => client.disconnect())
  t.equal(await waitReady(client, 5000), true, 'connected')
  const prefix = `test-${process.pid}-${Date.now()}:`
  const store = new RedisStore({ client, prefix: `${prefix}sess:`, userPrefix: `${prefix}user:` })
  await store.set('k1', { uid: 9, lang: 'en' }, 60_000, o)
  await store.set('k2', { uid: 9 }, 60_000, o)
  t.same(await store.get('k1', 0, o), { uid: 9, lang: 'en' })
  const raw = new Redis(url)
  t.teardown(() => raw.disconnect())
  const ttl = await raw.pttl(`${prefix}sess:k1`)
  t.ok(ttl > 50_000 && ttl <= 60_000, `TTL follows maxAge (${ttl})`)
  t.same((await raw.smembers(`${prefix}user:9`)).sort(), ['k1', 'k2'])
  t.equal(await store.destroyOthers(9, 'k1'), 1)
  t.equal(await store.get('k2', 0, o), undefined)
  t.ok(await store.get('k1', 0, o))
  await store.destroy('k1', o)
  t.equal(await store.get('k1', 0, o), undefined)

  // Nothing listens on port 1: every call must fail quickly with the 503 error class.
  const dead = createRedisClient({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 500, retryMs: 200, logger })
  t.teardown(() => dead.disconnect())
  const deadStore = new RedisStore({ client: dead })
  const started = Date.now()
  await t.rejects(deadStore.get('x', 0, o), StoreUnavailableError)
  await t.rejects(deadStore.set('x', { uid: 1 }, 1000, o), { code: 'ERR_STORE_UNAVAILABLE', status: 503 })
  t.ok(Date.now() - started < 1000, 'failed within 1 s')
})

t.test('LoginThrottle counts failures only, per key, with Retry-After', async (t) => {
  let now = 0
  const th = new LoginThrottle({ maxFailures: 3, windowMs: 60_000, now: () => now })
  for (let i = 0; i < 1000; i++) th.succeed(`user${i}\u0000127.0.0.1`)
  th.check('user1\u0000127.0.0.1')
  for (let i = 0; i < 3; i++) { th.check('k'); th.fail('k') }
  t.throws(() => th.check('k'), { code: 'ERR_TOO_MANY_ATTEMPTS', status: 429, headers: { 'Retry-After': '60' } })
  th.check('other')
  now += 30_500
  t.throws(() => th.check('k'), { code: 'ERR_TOO_MANY_ATTEMPTS', headers: { 'Retry-After': '30' } })
  now += 30_000
  th.check('k')
  t.pass('window over: allowed again')
})
