import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { hashPassword, parseHash, verifyPassword } from '../../servers/password.js'
import { demoCredentials, seedUsersDb, UsersDb } from '../../servers/users-db.js'

function tempDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'sessionscale-db-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('demoCredentials names', async (t) => {
  t.same(demoCredentials(1), { username: 'user1', password: 'demo-1' })
  t.same(demoCredentials(250), { username: 'user250', password: 'demo-250' })
})

t.test('password hashes store their parameters and verify with them', async (t) => {
  const h = await hashPassword('s3cret-pass', { N: 1024 })
  t.match(h, /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/)
  t.equal(parseHash(h)?.N, 1024)
  t.equal(await verifyPassword('s3cret-pass', h), true)
  t.equal(await verifyPassword('wrong', h), false)
  t.equal(await verifyPassword('x', 'not-a-hash'), false, 'malformed hash is false, not a throw')
  t.not(await hashPassword('same', { N: 1024 }), await hashPassword('same', { N: 1024 }), 'salted')
  await t.rejects(hashPassword('x', { N: 1000 }), /power of two/)
})

t.test('the production default cost works (maxmem is set for N=2^15)', async (t) => {
  const h = await hashPassword('pw-default')
  t.match(h, /^scrypt\$32768\$8\$1\$/)
  t.equal(await verifyPassword('pw-default', h), true)
})

t.test('seeding creates users, an admin, WAL mode, and is idempotent', async (t) => {
  const path = join(tempDir(t), 'nested', 'users.db')
  const first = await seedUsersDb({ path, users: 30, scryptN: 1024 })
  t.same(first.scrypt, { N: 1024, r: 8, p: 1 })
  t.equal(first.users, 30)
  t.equal(first.hashed, 31, '30 users and the admin')
  const again = await seedUsersDb({ path, users: 30, scryptN: 1024 })
  t.equal(again.hashed, 0, 'reused as is')
  const more = await seedUsersDb({ path, users: 35, scryptN: 1024 })
  t.equal(more.hashed, 5, 'refilled with the missing users only')
  t.equal(more.users, 35)
  const recost = await seedUsersDb({ path, users: 5, scryptN: 2048 })
  t.equal(recost.hashed, 6, 'another cost rehashes the users asked for')

  const raw = new Database(path, { readonly: true })
  t.equal(raw.pragma('journal_mode', { simple: true }), 'wal')
  raw.close()

  const db = new UsersDb(path)
  t.teardown(() => db.close())
  const u = db.findByUsername('user3')!
  t.equal(u.role, 'user')
  t.equal(await verifyPassword('demo-3', u.passwordHash), true)
  const admin = db.findByUsername('admin')!
  t.equal(admin.role, 'admin')
  t.equal(await verifyPassword('admin-demo', admin.passwordHash), true)
  t.equal(db.usernameOf(u.id), 'user3')
  t.equal(db.findById(u.id)?.username, 'user3')
  t.equal(db.findByUsername('nobody'), undefined)
  t.equal(u.passwordChangedAt, 0, 'never changed')
  db.setPasswordHash(u.id, await hashPassword('changed-pw', { N: 1024 }), 12345)
  t.equal(await verifyPassword('changed-pw', db.findById(u.id)!.passwordHash), true)
  t.equal(db.findById(u.id)!.passwordChangedAt, 12345, 'the change is stamped')
})

t.test('two processes worth of handles can use the same file', async (t) => {
  const path = join(tempDir(t), 'users.db')
  await seedUsersDb({ path, users: 3, scryptN: 1024 })
  const a = new UsersDb(path)
  const b = new UsersDb(path)
  t.teardown(() => { a.close(); b.close() })
  a.setPasswordHash(a.findByUsername('user1')!.id, 'scrypt$1024$8$1$x$y')
  t.equal(b.findByUsername('user1')!.passwordHash, 'scrypt$1024$8$1$x$y', 'a write is seen by the other handle')
})

t.test('seeding hundreds of users at low cost in one call', async (t) => {
  const path = join(tempDir(t), 'users.db')
  const r = await seedUsersDb({ path, users: 500, scryptN: 1024 })
  t.equal(r.users, 500)
})

t.test('a DB from before password_changed_at is migrated on open', async (t) => {
  const path = join(tempDir(t), 'old.db')
  const raw = new Database(path)
  raw.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, role TEXT NOT NULL)")
  raw.prepare('INSERT INTO users (username, password_hash, role) VALUES (?, ?, ?)').run('old', 'scrypt$1024$8$1$x$y', 'user')
  raw.close()
  const db = new UsersDb(path)
  t.teardown(() => db.close())
  t.equal(db.findByUsername('old')?.passwordChangedAt, 0)
})
