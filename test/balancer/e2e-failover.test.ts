// kill -9 of a backend process under load: its users get a new backend, no GET fails.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { getJson, lbCookie, spawnBackend, startBalancerProcess } from './fixtures/cluster.js'

t.test('SIGKILL of a backend under load: no failed GET, users re-pinned', async (t) => {
  const [s1, s2] = await Promise.all([spawnBackend(t, 's1'), spawnBackend(t, 's2')])
  const lb = await startBalancerProcess(t, ['--backend', `s1=${s1.url}`, '--backend', `s2=${s2.url}`])
  const statuses = new Map<number, number>()
  let killed = false
  let stop = false
  const user = async (): Promise<{ firstId?: string, afterKill: string[], cookieChanges: number, cookie?: string }> => {
    let cookie: string | undefined
    let firstId: string | undefined
    const afterKill: string[] = []
    let cookieChanges = 0
    while (!stop) {
      let status = -1
      let id: string | null = null
      const sentAfterKill = killed
      try {
        const res = await fetch(`${lb.url}/api/me`, { headers: cookie === undefined ? {} : { cookie: `lb=${cookie}` } })
        await res.arrayBuffer()
        status = res.status
        id = res.headers.get('x-instance-id')
        const c = lbCookie(res)
        if (c !== undefined) { if (cookie !== undefined) cookieChanges++; cookie = c }
      } catch {}
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
      firstId ??= id ?? undefined
      if (sentAfterKill && id !== null) afterKill.push(id)
    }
    return { firstId, afterKill, cookieChanges, cookie }
  }
  const running = Promise.all(Array.from({ length: 12 }, user))
  await sleep(1000)
  s1.child.kill('SIGKILL')
  killed = true
  await sleep(1500)
  stop = true
  const users = await running

  t.same([...statuses.keys()], [200], `every GET answered 200 (${JSON.stringify([...statuses])})`)
  const s1Users = users.filter((u) => u.firstId === 's1')
  const s2Users = users.filter((u) => u.firstId === 's2')
  t.ok(s1Users.length > 0 && s2Users.length > 0, 'users were spread before the kill')
  for (const u of s1Users) {
    t.ok(u.afterKill.length > 0 && u.afterKill.every((id) => id === 's2'), 's1 users are served by s2 after the kill', { afterKill: u.afterKill.join(',') })
    t.equal(u.cookieChanges, 1, 'and got exactly one new cookie')
    t.ok(u.cookie?.startsWith('s2.'))
  }
  for (const u of s2Users) t.equal(u.cookieChanges, 0, 's2 users never moved')
  const status = await getJson<{ backends: Array<{ id: string, state: string, retries: number, pinned: number }>, totals: { rebounds: number } }>(`${lb.adminUrl}/_lb/status`)
  t.equal(status.body.backends.find((b) => b.id === 's1')?.state, 'down')
  t.equal(status.body.backends.find((b) => b.id === 's1')?.pinned, 0, 'no users left pinned to s1')
  t.equal(status.body.backends.find((b) => b.id === 's2')?.pinned, users.length, 'every user now pinned to s2')
  t.ok(status.body.totals.rebounds >= s1Users.length, 'rebounds counted')
})
