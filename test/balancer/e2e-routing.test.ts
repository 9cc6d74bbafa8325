// End to end: balancer process + backend processes; what a user sees.
import t from 'tap'
import http from 'node:http'
import { getJson, lbCookie, quickGet, spawnBackend, startBalancerProcess } from './fixtures/cluster.js'

interface Status { backends: Array<{ id: string, state: string, requests: number, rebounds: number }>, totals: { rebounds: number } }

t.test('routing through a real balancer process', async (t) => {
  const [s1, s2, s3] = await Promise.all([spawnBackend(t, 's1'), spawnBackend(t, 's2'), spawnBackend(t, 's3')])
  const lb = await startBalancerProcess(t, ['--backend', `s1=${s1.url}`, '--backend', `s2=${s2.url}`, '--health-interval', '200'])
  t.match(lb.info, { event: 'listening', service: 'balancer', policy: 'sticky', backends: [{ id: 's1', url: s1.url }, { id: 's2', url: s2.url }] })
  const status = async (): Promise<Status> => (await getJson<Status>(`${lb.adminUrl}/_lb/status`)).body

  await t.test('stickiness: 20 users × 1000 requests each stay on their backend', async (t) => {
    const users = Array.from({ length: 20 }, (_, i) => i)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 })
    t.teardown(() => agent.destroy())
    const results = await Promise.all(users.map(async () => {
      let cookie: string | undefined
      let first: string | undefined
      let moved = 0
      let failed = 0
      for (let i = 0; i < 1000; i++) {
        const res = await quickGet(agent, `${lb.url}/api/me`, cookie === undefined ? undefined : `lb=${cookie}`)
        if (res.status !== 200) failed++
        if (i === 0) { first = res.instance; cookie = res.lb } else if (res.instance !== first || res.lb !== undefined) moved++
      }
      return { first, moved, failed, cookie }
    }))
    t.equal(results.reduce((a, r) => a + r.failed, 0), 0, 'no failed request')
    t.equal(results.reduce((a, r) => a + r.moved, 0), 0, 'no user ever moved or got a new cookie')
    t.ok(results.every((r) => r.cookie !== undefined && r.cookie.startsWith(`${r.first}.`)), 'cookie names the backend id, no address')
    const per = new Set(results.map((r) => r.first))
    t.same([...per].sort(), ['s1', 's2'], 'new users spread over both backends')
  })

  await t.test('tampered cookie: rebound, new cookie, x-affinity seen by the backend', async (t) => {
    const before = (await status()).totals.rebounds
    const res = await getJson<{ instance: string, headers: Record<string, string> }>(`${lb.url}/headers`, { headers: { cookie: 'koa.sess=abc; lb=s1.AAAAAAAAAAAAAAAAAAAAAA' } })
    t.equal(res.status, 200)
    t.equal(res.body.headers['x-affinity'], 'rebound')
    const cookie = lbCookie(res.res)
    t.ok(cookie?.startsWith(`${res.body.instance}.`), 're-issued cookie names the new backend')
    t.match(res.res.headers.getSetCookie().join('\n'), /lb=[^;]+; Path=\/; HttpOnly; SameSite=Lax/)
    t.equal((await status()).totals.rebounds, before + 1, 'counted')
    const again = await getJson<{ headers: Record<string, string> }>(`${lb.url}/headers`, { headers: { cookie: `lb=${cookie!}`, 'x-affinity': 'rebound' } })
    t.equal(again.body.headers['x-affinity'], undefined, 'valid cookie: no rebound, and a client cannot spoof x-affinity')
    t.equal(lbCookie(again.res), undefined, 'no new cookie for a pinned user')
  })

  await t.test('spoofed X-Forwarded-* and Forwarded are replaced', async (t) => {
    const res = await getJson<{ headers: Record<string, string> }>(`${lb.url}/headers`, { headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', forwarded: 'for=6.6.6.6' } })
    t.equal(res.body.headers['x-forwarded-for'], '127.0.0.1')
    t.equal(res.body.headers['x-forwarded-proto'], 'http')
    t.equal(res.body.headers['x-forwarded-host'], new URL(lb.url).host)
    t.equal(res.body.headers['forwarded'], undefined)
  })

  await t.test('drain keeps pinned users and sends no new ones there', async (t) => {
    // Find s1's cookie by asking until a new user lands there (least-conn rotates ties).
    let s1Cookie: string | undefined
    for (let i = 0; i < 10 && s1Cookie === undefined; i++) {
      const c = lbCookie(await fetch(`${lb.url}/x`))
      if (c?.startsWith('s1.') === true) s1Cookie = c
    }
    t.ok(s1Cookie, 'got a user pinned to s1')
    const drained = await getJson<{ state: string }>(`${lb.adminUrl}/_lb/backends/s1/drain`, { method: 'POST' })
    t.equal(drained.body.state, 'draining')
    for (let i = 0; i < 30; i++) {
      const pinnedRes = await fetch(`${lb.url}/x`, { headers: { cookie: `lb=${s1Cookie!}` } })
      await pinnedRes.arrayBuffer()
      if (pinnedRes.headers.get('x-instance-id') !== 's1') { t.fail('pinned user moved off a draining backend'); break }
      const fresh = await fetch(`${lb.url}/x`)
      await fresh.arrayBuffer()
      if (fresh.headers.get('x-instance-id') === 's1') { t.fail('new user sent to a draining backend'); break }
    }
    t.equal((await getJson<{ state: string }>(`${lb.adminUrl}/_lb/backends/s1/enable`, { method: 'POST' })).body.state, 'up')
  })

  await t.test('a backend whose /healthz says draining gets no new users, then comes back', async (t) => {
    const events: string[] = []
    await getJson(`${s2.url}/_test/health/draining`, { method: 'POST' })
    for (let i = 0; i < 50 && (await status()).backends.find((b) => b.id === 's2')?.state !== 'draining'; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    t.equal((await status()).backends.find((b) => b.id === 's2')?.state, 'draining')
    for (let i = 0; i < 10; i++) {
      const fresh = await fetch(`${lb.url}/x`)
      await fresh.arrayBuffer()
      events.push(fresh.headers.get('x-instance-id')!)
    }
    t.same([...new Set(events)], ['s1'], 'new users only on s1')
    await getJson(`${s2.url}/_test/health/ok`, { method: 'POST' })
    for (let i = 0; i < 50 && (await status()).backends.find((b) => b.id === 's2')?.state !== 'up'; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    t.equal((await status()).backends.find((b) => b.id === 's2')?.state, 'up')
  })

  await t.test('add and remove backends on the admin API', async (t) => {
    const bad = await getJson<{ error: { code: string, message: string } }>(`${lb.adminUrl}/_lb/backends`, { method: 'POST', body: JSON.stringify({ id: 's3', url: 'ftp://x' }) })
    t.equal(bad.status, 400)
    t.match(bad.body.error.message, /http:\/\//)
    t.equal((await getJson(`${lb.adminUrl}/_lb/backends`, { method: 'POST', body: '{nope' })).status, 400)
    t.equal((await getJson(`${lb.adminUrl}/_lb/backends/nope/drain`, { method: 'POST' })).status, 404)
    t.equal((await getJson(`${lb.adminUrl}/_lb/backends`, { method: 'POST', body: JSON.stringify({ id: 's1', url: s3.url }) })).status, 409)
    const added = await getJson<{ id: string, state: string }>(`${lb.adminUrl}/_lb/backends`, { method: 'POST', body: JSON.stringify({ id: 's3', url: s3.url }) })
    t.equal(added.status, 201)
    t.equal(added.body.id, 's3')
    let s3Cookie: string | undefined
    for (let i = 0; i < 12 && s3Cookie === undefined; i++) {
      const c = lbCookie(await fetch(`${lb.url}/x`))
      if (c?.startsWith('s3.') === true) s3Cookie = c
    }
    t.ok(s3Cookie, 'new users reach the added backend')
    t.equal((await getJson(`${lb.adminUrl}/_lb/backends/s3`, { method: 'DELETE' })).status, 200)
    const res = await getJson<{ instance: string }>(`${lb.url}/x`, { headers: { cookie: `lb=${s3Cookie!}` } })
    t.equal(res.status, 200)
    t.not(res.body.instance, 's3', 'users of a removed backend are re-pinned')
    t.ok(lbCookie(res.res)?.startsWith(`${res.body.instance}.`))
    t.same((await status()).backends.map((b) => b.id), ['s1', 's2'])
    const metrics = await (await fetch(`${lb.adminUrl}/metrics`)).text()
    t.match(metrics, /lb_requests_total\{backend="s1",status="200"\} \d+/)
    t.match(metrics, /lb_affinity_rebounds_total \d+/)
    t.match(metrics, /lb_upstream_latency_seconds_bucket/)
  })

  await t.test('every backend down: 503 JSON at once', async (t) => {
    s1.child.kill('SIGKILL')
    s2.child.kill('SIGKILL')
    await Promise.all([s1.exited, s2.exited])
    for (let i = 0; i < 5; i++) {
      const started = performance.now()
      const res = await getJson<{ error: { code: string } }>(`${lb.url}/api/me`)
      t.equal(res.status, 503)
      t.equal(res.body.error.code, 'ERR_NO_BACKEND')
      t.ok(performance.now() - started < 500, 'answered fast, no waiting for timeouts')
    }
    t.same((await status()).backends.map((b) => b.state), ['down', 'down'])
  })
})
