import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { availableParallelism } from 'node:os'
import { SCRYPT_DEFAULTS } from './defaults.js'
import { checkScryptN, hashPassword, type ScryptParams } from './password.js'

export type Role = 'admin' | 'user'

/** What the API and tokens say about a user: never the hash, never an email. */
export interface PublicUser { id: number, username: string, role: Role }

export interface UserRow extends PublicUser {
  passwordHash: string
  /** When the password last changed (ms since epoch; 0 = never): refresh tokens issued before it are refused. */
  passwordChangedAt: number
}

/** Demo user i (1..N): `user${i}` / `demo-${i}`. The bench imports this; keep the names. */
export function demoCredentials (i: number): { username: string, password: string } {
  return { username: `user${i}`, password: `demo-${i}` }
}

/** The one admin account of a seeded DB. */
export const DEMO_ADMIN = { username: 'admin', password: 'admin-demo' } as const

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
  password_changed_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

function openDatabase (path: string, readonly = false): Database.Database {
  if (!readonly) mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path, { readonly })
  // Several instance processes share the file: WAL lets readers run beside one writer;
  // busy_timeout makes a concurrent writer wait instead of failing with SQLITE_BUSY.
  db.pragma('busy_timeout = 5000')
  if (!readonly) {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.exec(SCHEMA)
    migrate(db)
  }
  return db
}

/** Bring a DB made by an older version up to date (several processes may race here). */
function migrate (db: Database.Database): void {
  const cols = (db.pragma('table_info(users)') as Array<{ name: string }>).map((c) => c.name)
  if (!cols.includes('password_changed_at')) {
    try {
      db.exec('ALTER TABLE users ADD COLUMN password_changed_at INTEGER NOT NULL DEFAULT 0')
    } catch (err) {
      if (!/duplicate column/i.test((err as Error).message)) throw err
    }
  }
}

type Row = { id: number, username: string, role: Role, password_hash: string, password_changed_at: number }
const toUser = (r: Row | undefined): UserRow | undefined => r === undefined
  ? undefined
  : { id: r.id, username: r.username, role: r.role, passwordHash: r.password_hash, passwordChangedAt: r.password_changed_at }

/**
 * The users table, opened once per process. Lookups are prepared statements;
 * the id → username map is cached because usernames never change (token
 * strategies use it on /api/me since tokens carry only the id).
 */
export class UsersDb {
  readonly path: string
  readonly #db: Database.Database
  readonly #byName: Database.Statement<[string], Row>
  readonly #byId: Database.Statement<[number], Row>
  readonly #setHash: Database.Statement<[string, number, number]>
  readonly #count: Database.Statement<[], { n: number }>
  readonly #names = new Map<number, string>()

  constructor (path: string) {
    this.path = path
    this.#db = openDatabase(path)
    this.#byName = this.#db.prepare('SELECT id, username, role, password_hash, password_changed_at FROM users WHERE username = ?')
    this.#byId = this.#db.prepare('SELECT id, username, role, password_hash, password_changed_at FROM users WHERE id = ?')
    this.#setHash = this.#db.prepare('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?')
    this.#count = this.#db.prepare('SELECT count(*) AS n FROM users')
  }

  findByUsername (username: string): UserRow | undefined {
    return toUser(this.#byName.get(username))
  }

  findById (id: number): UserRow | undefined {
    return toUser(this.#byId.get(id))
  }

  /** Username of a user id, cached in-process (usernames are immutable here). */
  usernameOf (id: number): string | undefined {
    let name = this.#names.get(id)
    if (name === undefined) {
      name = this.#byId.get(id)?.username
      if (name !== undefined) {
        if (this.#names.size > 100_000) this.#names.clear()
        this.#names.set(id, name)
      }
    }
    return name
  }

  /** Store a new hash and stamp the change time (`changedAt` ms, default now). */
  setPasswordHash (id: number, hash: string, changedAt = Date.now()): void {
    this.#setHash.run(hash, changedAt, id)
  }

  count (): number {
    return this.#count.get()?.n ?? 0
  }

  close (): void {
    this.#db.close()
  }
}

export interface SeedOptions {
  /** DB file; created with its folder when missing. */
  path: string
  /** Number of demo users `user1..userN` (the admin comes on top). */
  users: number
  /** scrypt N for the seeded hashes. Default 2^15. Benchmarks use a small N such as 1024. */
  scryptN?: number
  /** Concurrent scrypt calls (libuv pool, 4 threads by default). Default: available parallelism, at least 4. */
  concurrency?: number
}

export interface SeedResult {
  path: string
  /** Demo users present (admin not counted). */
  users: number
  /** How many hashes this call computed (0 when the DB was reused). */
  hashed: number
  scrypt: ScryptParams
}

async function mapPool<T, R> (items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  return out
}

/**
 * Create or refill a users DB with `user1..userN` (password `demo-i`) and
 * `admin`. Idempotent: users already hashed at this cost are kept (so a DB
 * already seeded with at least N users at that cost is reused untouched);
 * missing users, and users hashed at another cost, are (re)hashed.
 */
export async function seedUsersDb (opts: SeedOptions): Promise<SeedResult> {
  const N = opts.scryptN ?? SCRYPT_DEFAULTS.N
  checkScryptN(N)
  if (!Number.isInteger(opts.users) || opts.users < 0) throw new RangeError(`users must be an integer >= 0, got ${opts.users}`)
  const params: ScryptParams = { N, r: SCRYPT_DEFAULTS.r, p: SCRYPT_DEFAULTS.p }
  const prefix = `scrypt$${N}$${params.r}$${params.p}$`
  const db = openDatabase(opts.path)
  try {
    const wanted: Array<{ username: string, password: string, role: Role }> = [{ ...DEMO_ADMIN, role: 'admin' }]
    for (let i = 1; i <= opts.users; i++) wanted.push({ ...demoCredentials(i), role: 'user' })
    const have = new Set(
      (db.prepare('SELECT username FROM users WHERE substr(password_hash, 1, ?) = ?').all(prefix.length, prefix) as Array<{ username: string }>)
        .map((r) => r.username),
    )
    const todo = wanted.filter((u) => !have.has(u.username))
    const concurrency = opts.concurrency ?? Math.max(4, availableParallelism())
    const hashed = await mapPool(todo, concurrency, async (u) => ({ ...u, hash: await hashPassword(u.password, params) }))
    const upsert = db.prepare(
      'INSERT INTO users (username, password_hash, role) VALUES (?, ?, ?) ' +
      'ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role',
    )
    db.transaction(() => {
      for (const u of hashed) upsert.run(u.username, u.hash, u.role)
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
        .run('scrypt', JSON.stringify(params))
    }).immediate()
    const users = (db.prepare("SELECT count(*) AS n FROM users WHERE role = 'user'").get() as { n: number }).n
    return { path: opts.path, users, hashed: hashed.length, scrypt: params }
  } finally {
    db.close()
  }
}
