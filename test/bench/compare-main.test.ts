import t from 'tap'
import { readFileSync } from 'node:fs'
import { run } from '../../bench/compare-main.js'

const fixtureText = readFileSync(new URL('./fixtures/report.json', import.meta.url), 'utf8')

function collector (): { write: (s: string) => void, text: () => string } {
  let out = ''
  return { write: (s) => { out += s }, text: () => out }
}

t.test('compares two report files and exits 0', async (t) => {
  const changed = JSON.parse(fixtureText)
  changed.runs = changed.runs.filter((r: { key: string }) => r.key !== 'token/sticky/b2/c10')
  const dir = t.testdir({ 'a.json': fixtureText, 'b.json': JSON.stringify(changed) })
  const out = collector()
  t.equal(await run([`${dir}/a.json`, `${dir}/b.json`], out), 0)
  t.match(out.text(), 'memory/sticky/b2/c100')
  t.match(out.text(), 'removed (only in A): token/sticky/b2/c10')
})

t.test('--help prints usage and exits 0', async (t) => {
  const out = collector()
  t.equal(await run(['--help'], out), 0)
  t.match(out.text(), /^Usage: sessionscale compare/)
})

t.test('bad input is a usage error naming the file', async (t) => {
  const dir = t.testdir({
    'good.json': fixtureText,
    'text.json': 'not json at all',
    'v2.json': JSON.stringify({ ...JSON.parse(fixtureText), schemaVersion: 2 }),
    'array.json': '[]',
    'noruns.json': JSON.stringify({ schemaVersion: 1 }),
  })
  const out = collector()
  const good = `${dir}/good.json`
  await t.rejects(run([], out), { code: 'ERR_USAGE', message: /expected two report files/ })
  await t.rejects(run([good], out), { code: 'ERR_USAGE' })
  await t.rejects(run([good, good, good], out), { code: 'ERR_USAGE' })
  await t.rejects(run(['--nope', good, good], out), { code: 'ERR_USAGE' })
  await t.rejects(run([good, `${dir}/missing.json`], out), { code: 'ERR_USAGE', message: /missing\.json: no such file/ })
  await t.rejects(run([`${dir}/text.json`, good], out), { code: 'ERR_USAGE', message: /text\.json: not JSON/ })
  await t.rejects(run([good, `${dir}/v2.json`], out), { code: 'ERR_USAGE', message: /v2\.json: schemaVersion 2/ })
  await t.rejects(run([`${dir}/array.json`, good], out), { code: 'ERR_USAGE', message: /array\.json/ })
  await t.rejects(run([`${dir}/noruns.json`, good], out), { code: 'ERR_USAGE', message: /noruns\.json/ })
  await t.rejects(run([dir, good], out), { code: 'ERR_USAGE', message: /cannot read/ })
  t.equal(out.text(), '', 'nothing printed on failure')
})
