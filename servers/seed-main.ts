import { resolve } from 'node:path'
import { helpText, intFlag, parseFlags, scryptFlag, type FlagSpec } from './cli-args.js'
import { defaultUsersDbPath, SCRYPT_DEFAULTS, SERVER_DEFAULTS } from './defaults.js'
import { seedUsersDb } from './users-db.js'

const FLAGS: Record<string, FlagSpec> = {
  db: { type: 'string', help: 'users DB file (SQLite), created with its folder', default: '.data/users.db' },
  users: { type: 'string', help: 'demo users user1..userN (password demo-i), plus admin/admin-demo', default: String(SERVER_DEFAULTS.seedUsers) },
  'scrypt-cost': { type: 'string', help: 'scrypt N (power of two); benchmarks use a small one such as 1024', default: String(SCRYPT_DEFAULTS.N) },
  help: { type: 'boolean', short: 'h', help: 'print this help' },
}

const USAGE = 'Usage: sessionscale seed [--db <path>] [--users <N>] [--scrypt-cost <N>]\n\n' +
  'Create or refill the users DB; users already hashed at this cost are kept. Prints one JSON summary line.'

export async function run (argv: string[]): Promise<number> {
  const v = parseFlags(argv, FLAGS)
  if (v['help'] === true) {
    process.stdout.write(helpText(USAGE, FLAGS))
    return 0
  }
  const path = typeof v['db'] === 'string' ? resolve(v['db']) : defaultUsersDbPath()
  const users = intFlag('users', v['users'], 0, 10_000_000) ?? SERVER_DEFAULTS.seedUsers
  const scryptN = scryptFlag('scrypt-cost', v['scrypt-cost'])
  const started = Date.now()
  const r = await seedUsersDb({ path, users, scryptN })
  process.stdout.write(JSON.stringify({ event: 'seeded', ...r, ms: Date.now() - started }) + '\n')
  return 0
}
