/** The SQLite store: the store contract, its durability pragmas, migrations, the legacy digest window, `--store` URLs. */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { MIGRATIONS, runMigrations, statements } from '../../gateway/store/migrations.js'
import { SqliteStore } from '../../gateway/store/sqlite.js'
import { createStore, defaultStoreUrl, parseStoreUrl } from '../../gateway/store/url.js'
import { isDaneelError } from '../../src/errors.js'
import { legacy, reading, storeSuite, T0 } from './store-suite.js'

const tmp = mkdtempSync(join(tmpdir(), 'daneel-store-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
let n = 0
const freshPath = (): string => join(tmp, `db${n++}`, 'readings.db')

storeSuite({
  name: 'sqlite',
  create: async () => {
    const s = new SqliteStore(freshPath())
    await s.open()
    return s
  },
  reopen: async (s) => {
    const path = (s as SqliteStore).path
    await s.close()
    const again = new SqliteStore(path)
    await again.open()
    return again
  },
})

describe('sqlite store specifics', () => {
  it('opens in WAL mode with synchronous=FULL and a busy timeout, and records each migration once', async () => {
    const path = freshPath()
    const s = new SqliteStore(path, { busyTimeoutMs: 1234 })
    await s.open()
    await s.commit([reading('a.example', 1)])
    await s.close()
    await s.open() // reopening the same object is fine too
    await s.close()
    const db = new Database(path, { readonly: true })
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    const versions = db.prepare('SELECT version FROM schema_version ORDER BY version').all() as { version: number }[]
    assert.deepEqual(
      versions.map((v) => v.version),
      MIGRATIONS.map((m) => m.version),
    )
    db.close()
    // synchronous and busy_timeout are per connection: ask the store's own
    const live = new SqliteStore(path, { busyTimeoutMs: 1234 })
    await live.open()
    assert.deepEqual(live.durability(), { journalMode: 'wal', synchronous: 'full', busyTimeoutMs: 1234 })
    await live.close()
  })

  it('runs each migration in a transaction; a second run applies nothing; a newer schema is refused', () => {
    const db = new Database(':memory:')
    const target = {
      exec: (sql: string) => db.exec(sql),
      versions: () => (db.prepare('SELECT version FROM schema_version').all() as { version: number }[]).map((r) => r.version),
      record: (v: number, name: string, at: number) => db.prepare('INSERT INTO schema_version VALUES (?, ?, ?)').run(v, name, at),
      transaction: (fn: () => void) => db.transaction(fn)(),
    }
    assert.deepEqual(runMigrations(target, 1), [1])
    assert.deepEqual(runMigrations(target, 2), [])
    // a failing migration leaves nothing behind: not its tables, not its version row
    const broken = [
      ...MIGRATIONS,
      { version: 2, name: 'broken', sql: 'CREATE TABLE half (x INTEGER);\nCREATE TABLE readings (y INTEGER);' },
    ]
    assert.throws(() => runMigrations(target, 3, broken), /already exists/)
    assert.deepEqual(target.versions(), [1])
    assert.equal((db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'").get() as { n: number }).n, 0)
    target.record(99, 'from the future', 4)
    assert.throws(
      () => runMigrations(target, 5),
      (e) => isDaneelError(e, 'ERR_CONFIG_INVALID') && /newer/.test(e.message),
    )
    db.close()
    assert.equal(statements('A;\nB ;\n\n').length, 2)
  })

  it('runs the same migration text unchanged on a PostgreSQL-compatible subset: no SQLite-only keywords', () => {
    for (const m of MIGRATIONS) assert.doesNotMatch(m.sql, /AUTOINCREMENT|WITHOUT ROWID|DATETIME|PRAGMA|INSERT OR|REPLACE INTO/i)
  })

  it('keeps legacy digests for the window only: a byte-exact replay inside it is a duplicate, after it a new message', async () => {
    let now = T0
    const s = new SqliteStore(freshPath(), { legacyWindowMs: 3_600_000 })
    await s.open()
    const m = legacy('old.example', 'the bytes', { time: T0, receivedAt: T0 })
    assert.deepEqual(await s.commit([m]), ['stored'])
    now = T0 + 1_800_000
    assert.deepEqual(await s.commit([{ ...m, receivedAt: now, time: now }]), ['duplicate'])
    now = T0 + 3_700_000 // the digest is older than the window: pruned at this commit, after the check
    assert.deepEqual(await s.commit([legacy('old.example', 'other', { receivedAt: now, time: now })]), ['stored'])
    assert.deepEqual(await s.commit([{ ...m, receivedAt: now, time: now }]), ['stored'])
    assert.equal(await s.count(), 3)
    await s.close()
  })

  it('a second connection holding the write lock makes a commit fail with SQLITE_BUSY after the busy timeout, storing nothing', async () => {
    const path = freshPath()
    const s = new SqliteStore(path, { busyTimeoutMs: 50 })
    await s.open()
    const other = new Database(path)
    other.exec('BEGIN IMMEDIATE')
    await assert.rejects(s.commit([reading('a.example', 1)]), (e: { code?: string }) => e.code === 'SQLITE_BUSY')
    other.exec('ROLLBACK')
    other.close()
    assert.deepEqual(await s.commit([reading('a.example', 1)]), ['stored'])
    await s.close()
  })

  it('a path that cannot hold a database is ERR_IO, naming the path', async () => {
    const notDb = join(tmp, 'not-a-db')
    writeFileSync(notDb, 'this is not an SQLite file, but it is long enough to have a header '.repeat(20))
    const dirPath = join(tmp, 'a-dir')
    mkdirSync(dirPath)
    const under = join(notDb, 'x.db') // a file where a folder should be
    for (const p of [notDb, dirPath, under]) {
      await assert.rejects(new SqliteStore(p).open(), (e) => isDaneelError(e, 'ERR_IO') && e.message.includes(p))
    }
  })

  it('refuses to work before open and after close', async () => {
    const s = new SqliteStore(freshPath())
    await assert.rejects(s.commit([reading('a.example', 1)]), /not open/)
    await s.open()
    await s.close()
    await assert.rejects(s.count(), /not open/)
  })
})

describe('--store URL', () => {
  it('takes sqlite:PATH (relative to cwd, or sqlite:///abs) and defaults under DANEEL_STATE', async () => {
    assert.deepEqual(parseStoreUrl('sqlite:/var/lib/daneel/readings.db'), { kind: 'sqlite', path: '/var/lib/daneel/readings.db' })
    assert.deepEqual(parseStoreUrl('sqlite:data/r.db', '/srv'), { kind: 'sqlite', path: '/srv/data/r.db' })
    assert.deepEqual(parseStoreUrl('SQLITE:///tmp/x.db'), { kind: 'sqlite', path: '/tmp/x.db' })
    assert.equal(defaultStoreUrl('/var/lib/daneel'), 'sqlite:/var/lib/daneel/readings.db')
    assert.ok((await createStore(defaultStoreUrl(tmp))) instanceof SqliteStore)
  })

  it('refuses other schemes with ERR_CONFIG_INVALID (no password echoed)', () => {
    const refused = (url: string, re: RegExp) =>
      assert.throws(
        () => parseStoreUrl(url),
        (e) => isDaneelError(e, 'ERR_CONFIG_INVALID') && re.test(e.message) && !e.message.includes('s3cret'),
      )
    refused('postgres://gw:s3cret@db.example:notaport/daneel', /not a valid URL/)
    refused('mysql://gw:s3cret@db.example/daneel', /scheme "mysql" is not supported/)
    refused('readings.db', /no scheme/)
    refused('sqlite:', /needs a file path/)
    refused('sqlite::memory:', /needs a file path/)
    refused('sqlite://host/x.db', /not a host/)
  })
})
