import t from 'tap'
import net from 'node:net'
import { sampleProcess } from '../../bench/proc-stat.js'
import { privateRedis } from '../helpers/redis.js'

function ping (port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('PING\r\n'))
    s.once('data', (d) => { s.destroy(); resolve(d.toString()) })
    s.once('error', reject)
  })
}

t.test('a private redis-server answers, stops and restarts on the same port', async (t) => {
  const redis = await privateRedis(t)
  if (redis === undefined) return
  t.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/)
  t.equal(await ping(redis.port), '+PONG\r\n')
  const pid = redis.pid!
  t.ok(sampleProcess(pid), 'its /proc stat can be read')
  await redis.stop()
  t.equal(redis.pid, undefined)
  await t.rejects(ping(redis.port), 'nothing listens once stopped')
  await redis.restart()
  t.not(redis.pid, pid, 'a new process')
  t.equal(await ping(redis.port), '+PONG\r\n')
})
