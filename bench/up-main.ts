import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { demoCredentials, seedUsersDb } from '../servers/users-db.js'
import { POLICIES, policyFor, STRATEGIES } from './bench-options.js'
import { startCluster } from './cluster.js'
import { parseFlags, intList, number, oneOf } from './flags.js'
import { startRedisServer, type RedisServer } from './redis-server.js'

const HELP = `Usage: sessionscale up [flags]

Starts a private redis-server (when the strategy needs one), N instances and the
balancer, prints their URLs and a curl example, and keeps them running until Ctrl-C.

Flags:
  --strategy S       ${STRATEGIES.join('|')} (default redis)
  --backends N       number of instances (default 3)
  --policy P         auto|${POLICIES.join('|')} (default auto: memory→sticky, others→round-robin)
  --users N          demo users to seed (default 1000)
  --scrypt-cost N    scrypt N for the users DB (default 1024, a demo cost)
  --redis-url URL    use this Redis instead of a private one (also REDIS_URL)
  --help             this text
`

export async function run (argv: string[]): Promise<number> {
  const values = parseFlags(argv, { strategy: { type: 'string' }, backends: { type: 'string' }, policy: { type: 'string' }, users: { type: 'string' }, 'scrypt-cost': { type: 'string' }, 'redis-url': { type: 'string' }, help: { type: 'boolean' } })
  if (values.help === true) { process.stdout.write(HELP); return 0 }
  const strategy = oneOf('--strategy', values.strategy ?? 'redis', STRATEGIES)
  const backends = intList('--backends', values.backends ?? '3')[0]!
  const policy = policyFor(strategy, oneOf('--policy', values.policy ?? 'auto', ['auto', ...POLICIES] as const))
  const users = intList('--users', values.users ?? '1000')[0]!
  const scryptN = number('--scrypt-cost', values['scrypt-cost'] ?? '1024', 2, 2 ** 20)

  mkdirSync('.data', { recursive: true })
  const usersDb = resolve(join('.data', `bench-users-n${scryptN}.db`))
  await seedUsersDb({ path: usersDb, users, scryptN })
  let redis: RedisServer | undefined
  let redisUrl = values['redis-url'] ?? (process.env['REDIS_URL'] !== '' ? process.env['REDIS_URL'] : undefined)
  if ((strategy === 'redis' || strategy === 'token-revocable') && redisUrl === undefined) {
    redis = await startRedisServer()
    redisUrl = redis.url
  }
  try {
    const cluster = await startCluster({ strategy, backends, policy, redisUrl, usersDb, secret: randomBytes(24).toString('base64url') })
    const u = demoCredentials(1)
    const cookie = strategy.startsWith('token') ? '' : ' -c /tmp/sessionscale.jar'
    const useCookie = strategy.startsWith('token') ? ' -H "Authorization: Bearer $TOKEN"' : ' -b /tmp/sessionscale.jar'
    process.stdout.write(`sessionscale up: ${backends} × ${strategy} instances behind the balancer (${policy})
  balancer   ${cluster.url}
  admin      ${cluster.adminUrl}/_lb/status   ${cluster.adminUrl}/metrics
  instances  ${cluster.instances.map((s, i) => `${cluster.ids[i]}=${s.url} (pid ${s.pid})`).join('  ')}
  redis      ${redisUrl ?? '(not used)'}
  users      user1 … user${users} (password demo-<n>), admin / admin-demo; DB ${usersDb}

Try:
  curl -s${cookie} -H 'content-type: application/json' -d '{"username":"${u.username}","password":"${u.password}"}' ${cluster.url}/auth/login
${strategy.startsWith('token') ? '  TOKEN=<accessToken from the answer above>\n' : ''}  curl -s${useCookie} ${cluster.url}/api/me
  curl -s ${cluster.adminUrl}/_lb/status

Ctrl-C stops everything.
`)
    await new Promise<void>((resolveWait) => {
      process.once('SIGINT', resolveWait)
      process.once('SIGTERM', resolveWait)
    })
    process.stdout.write('\nstopping…\n')
    await cluster.close()
  } finally {
    await redis?.close()
  }
  return 0
}
