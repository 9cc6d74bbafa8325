// Upstream failures: timeouts, resets, never a double POST, retries of idempotent requests.
import t from 'tap'
import { getJson, spawnBackend, startBalancerProcess } from './fixtures/cluster.js'

interface Stats { posts: number }
type ErrBody = { error: { code: string, message: string } }

t.test('upstream failures', async (t) => {
  const [s1, s2] = await Promise.all([spawnBackend(t, 's1'), spawnBackend(t, 's2')])
  const lb = await startBalancerProcess(t, ['--backend', `s1=${s1.url}`, '--backend', `s2=${s2.url}`, '--timeout', '400', '--health-interval', '100', '--rise', '1', '--policy', 'round-robin'])
  const posts = async (): Promise<number> => {
    const [a, b] = await Promise.all([getJson<Stats>(`${s1.url}/_test/stats`), getJson<Stats>(`${s2.url}/_test/stats`)])
    return a.body.posts + b.body.posts
  }
  const allUp = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      const st = await getJson<{ backends: Array<{ state: string }> }>(`${lb.adminUrl}/_lb/status`)
      if (st.body.backends.every((b) => b.state === 'up')) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error('backends did not come back up')
  }

  await t.test('slow backend → 504 with a JSON error, quickly', async (t) => {
    const started = performance.now()
    const res = await getJson<ErrBody>(`${lb.url}/slow?ms=3000`)
    t.equal(res.status, 504)
    t.equal(res.body.error.code, 'ERR_UPSTREAM_TIMEOUT')
    t.ok(performance.now() - started < 2000, 'timeout applied, not retried on the other backend')
  })

  await t.test('POST reset after reaching the backend: 502, received exactly once', async (t) => {
    await allUp()
    const before = await posts()
    const res = await getJson<ErrBody>(`${lb.url}/reset`, { method: 'POST', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json' } })
    t.equal(res.status, 502)
    t.equal(res.body.error.code, 'ERR_BAD_GATEWAY')
    t.equal(await posts(), before + 1, 'the backends saw the POST once: never sent twice')
  })

  await t.test('POSTs with bodies are delivered once each', async (t) => {
    await allUp()
    const before = await posts()
    const body = 'x'.repeat(10_000)
    for (let i = 0; i < 20; i++) {
      const res = await getJson<{ bytes: number }>(`${lb.url}/post`, { method: 'POST', body })
      t.equal(res.body.bytes, 10_000, 'body forwarded whole', { diagnostic: false })
    }
    const big = await getJson<{ bytes: number }>(`${lb.url}/post`, { method: 'POST', body: 'y'.repeat(200_000) })
    t.equal(big.body.bytes, 200_000, 'a body over the buffer limit is streamed')
    t.equal(await posts(), before + 21)
  })

  await t.test('GET reset everywhere: retried, then 502', async (t) => {
    await allUp()
    const res = await getJson<ErrBody>(`${lb.url}/reset`)
    t.equal(res.status, 502)
    const st = await getJson<{ totals: { retries: number } }>(`${lb.adminUrl}/_lb/status`)
    t.ok(st.body.totals.retries >= 1, 'the GET was retried on the other backend')
  })

  await t.test('connect refused on a POST: never reached it, so sent to another backend', async (t) => {
    await allUp()
    s1.child.kill('SIGKILL')
    await s1.exited
    const before = await getJson<Stats>(`${s2.url}/_test/stats`)
    let ok = 0
    for (let i = 0; i < 4; i++) {
      const res = await getJson<{ instance: string }>(`${lb.url}/post`, { method: 'POST', body: 'hello' })
      if (res.status === 200 && res.body.instance === 's2') ok++
    }
    t.equal(ok, 4)
    t.equal((await getJson<Stats>(`${s2.url}/_test/stats`)).body.posts, before.body.posts + 4)
  })
})
