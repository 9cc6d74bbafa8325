import t from 'tap'
import { parseBackend, run, usage } from '../../balancer/main.js'
import { spawnBackend, startBalancerProcess } from './fixtures/cluster.js'
import { backendIdFromUrl } from '../../balancer/pool.js'

t.test('flag errors name the flag', async (t) => {
  await t.rejects(run(['--backend', 'localhost:4001']), { code: 'ERR_USAGE', message: /--backend must be an http:\/\/ URL/ })
  await t.rejects(run(['--backend', 's1=ftp://x']), { code: 'ERR_USAGE', message: /--backend/ })
  await t.rejects(run(['--backend', 'bad id=http://127.0.0.1:1']), { code: 'ERR_USAGE', message: /--backend/ })
  await t.rejects(run(['--backend', 's1=http://127.0.0.1:1', '--backend', 's1=http://127.0.0.1:2']), { code: 'ERR_USAGE', message: /given twice/ })
  await t.rejects(run(['--policy', 'random']), { code: 'ERR_USAGE', message: /--policy must be one of/ })
  await t.rejects(run(['--port', '-1']), { code: 'ERR_USAGE', message: /--port/ })
  await t.rejects(run(['--rise', '0']), { code: 'ERR_USAGE', message: /--rise/ })
  await t.rejects(run(['--nope']), { code: 'ERR_USAGE' })
})

t.test('backend ids', async (t) => {
  t.same(parseBackend('s1=http://127.0.0.1:4001'), { id: 's1', url: 'http://127.0.0.1:4001' })
  t.same(parseBackend('http://127.0.0.1:4001/'), { id: backendIdFromUrl('http://127.0.0.1:4001'), url: 'http://127.0.0.1:4001' })
})

t.test('--help lists every flag with its default', async (t) => {
  const text = usage()
  for (const flag of ['--backend', '--policy', '--port', '--host', '--admin-port', '--secret', '--health-interval', '--rise', '--fall', '--connect-timeout', '--timeout', '--help']) t.match(text, flag)
  t.match(text, /default: sticky/)
})

t.test('SIGTERM: stop accepting, finish in-flight, exit 0', async (t) => {
  const s1 = await spawnBackend(t, 's1')
  const lb = await startBalancerProcess(t, ['--backend', `s1=${s1.url}`])
  const slow = fetch(`${lb.url}/slow?ms=600`)
  await new Promise((resolve) => setTimeout(resolve, 200))
  lb.kill('SIGTERM')
  const res = await slow
  t.equal(res.status, 200, 'in-flight request finished')
  await res.text()
  const exit = await lb.exited
  t.equal(exit.code, 0)
  await t.rejects(fetch(`${lb.url}/x`), 'no longer accepting')
})
