/** The PostgreSQL store against a real PostgreSQL (testkit/postgres.ts): the store contract, partitions, retention, two writers. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { MIGRATIONS } from '../../gateway/store/migrations.js'
import { partitionName } from '../../gateway/store/pg-partitions.js'
import { PostgresStore } from '../../gateway/store/postgres.js'
import { createStore, parseStoreUrl } from '../../gateway/store/url.js'
import { isDaneelError } from '../../src/errors.js'
import { type Postgres, startPostgres } from '../../testkit/postgres.js'
import { legacy, reading, status, storeSuite, T0 } from './store-suite.js'

const tmp = mkdtempSync(join(tmpdir(), 'daneel-pg-'))
let server: Postgres
let n = 0
const quiet = { log: () => undefined }

before(async () => {
  server = await startPostgres(tmp)
})
after(async () => {
  await server?.stop()
  rmSync(tmp, { recursive: true, force: true })
})

const freshUrl = async (): Promise<string> => server.createDatabase(`db${n++}`)

storeSuite({
  name: 'postgres',
  create: async () => {
    const s = new PostgresStore(await freshUrl(), quiet)
    await s.open()
    return s
  },
  reopen: async (s) => {
    const url = (s as PostgresStore).url
    await s.close()
    const again = new PostgresStore(url, quiet)
    await again.open()
    return again
  },
})

async function sql<T extends pg.QueryResultRow>(url: string, text: string, args: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return (await c.query<T>(text, args)).rows
  } finally {
    await c.end()
  }
}

const month = (y: number, m: number): number => Date.UTC(y, m - 1, 1)

describe('postgres store specifics', () => {
  it('migrates once (schema_version), readings is partitioned by month, ahead of now and on demand', async () => {
    const url = await freshUrl()
    const now = Date.UTC(2026, 11, 15)
    const s = new PostgresStore(url, { ...quiet, now: () => now })
    await s.open()
    assert.deepEqual(s.partitions.months().map(partitionName), ['readings_p202612', 'readings_p202701', 'readings_p202702'])
    // T0 is January 2026 and a reading from 2031 arrives: both months are made before the transaction
    await s.commit([reading('a.example', 1), reading('a.example', 2, { time: month(2031, 5) + 5 })])
    await s.close()
    const again = new PostgresStore(url, { ...quiet, now: () => now })
    await again.open()
    await again.close()
    const versions = await sql<{ version: number }>(url, 'SELECT version FROM schema_version ORDER BY version')
    assert.deepEqual(
      versions.map((v) => v.version),
      MIGRATIONS.map((m) => m.version),
    )
    const parts = await sql<{ name: string; bound: string }>(
      url,
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass ORDER BY c.relname`,
    )
    assert.deepEqual(
      parts.map((p) => p.name),
      ['readings_p202601', 'readings_p202612', 'readings_p202701', 'readings_p202702', 'readings_p203105'],
    )
    assert.equal(parts[0]?.bound, `FOR VALUES FROM ('${month(2026, 1)}') TO ('${month(2026, 2)}')`)
    const rows = await sql<{ p: string; n: string }>(
      url,
      'SELECT tableoid::regclass::text AS p, count(*) AS n FROM readings GROUP BY 1 ORDER BY 1',
    )
    assert.deepEqual(
      rows.map((r) => [r.p, Number(r.n)]),
      [
        ['readings_p202601', 1],
        ['readings_p203105', 1],
      ],
    )
  })

  it('retention drops whole months past the setting (and their replay keys), keeps the rest', async () => {
    const url = await freshUrl()
    let now = month(2026, 1) + 86_400_000
    const s = new PostgresStore(url, { ...quiet, now: () => now, retentionDays: 62 })
    await s.open()
    const at = (seq: number, t: number) => reading('a.example', seq, { time: t, receivedAt: t })
    await s.commit([at(1, month(2025, 10) + 1), at(2, month(2025, 12) + 1), at(3, month(2026, 1) + 1)])
    // at open the cutoff was 2025-10-31: October's partition did not exist yet, so it was not dropped
    now = month(2026, 2) + 86_400_000 // cutoff 2025-12-01: October and November end before it
    const { dropped, created } = await s.upkeep()
    assert.deepEqual(dropped, ['readings_p202510'])
    assert.deepEqual(created, ['readings_p202604'])
    assert.deepEqual(
      (await s.readings({ from: 0 })).map((r) => r.seq),
      [2, 3],
    )
    const keys = await sql<{ seq: string }>(url, 'SELECT seq FROM reading_keys ORDER BY seq')
    assert.deepEqual(
      keys.map((k) => Number(k.seq)),
      [2, 3],
    )
    await s.close()
    assert.throws(() => new PostgresStore(url, { retentionDays: 0 }), RangeError)
  })

  it('two stores on one database (two workers) committing overlapping batches at once store each key once', async () => {
    const url = await freshUrl()
    const a = new PostgresStore(url, quiet)
    const b = new PostgresStore(url, quiet)
    await Promise.all([a.open(), b.open()]) // concurrent migrations: the advisory lock serialises them
    const nodes = Array.from({ length: 20 }, (_, i) => `n${i}.example`)
    const batch = (from: number) => nodes.flatMap((node) => Array.from({ length: 10 }, (_, k) => reading(node, from + k)))
    const results = await Promise.all([a.commit(batch(0)), b.commit(batch(5)), a.commit(batch(10)), b.commit(batch(0))])
    const stored = results.flat().filter((o) => o === 'stored').length
    assert.equal(stored, 20 * 20)
    assert.equal(await a.count(), 400)
    const dup = await sql<{ n: string }>(
      url,
      'SELECT count(*) AS n FROM (SELECT node, seq FROM readings GROUP BY 1, 2 HAVING count(*) > 1) d',
    )
    assert.equal(Number(dup[0]?.n), 0)
    const total = await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM readings')
    assert.equal(Number(total[0]?.n), 400)
    await a.close()
    await b.close()
  })

  it('a status and a legacy message in the same batch as readings keep their own guards', async () => {
    const s = new PostgresStore(await freshUrl(), quiet)
    await s.open()
    const l = legacy('old.example', 'b1')
    const st = status('a.example', 9, { health: 'ok' })
    const stLegacy = status('old.example', 0, { health: 'ok' }, { seq: null, bound: false, digest: legacy('x', 'st').digest })
    assert.deepEqual(await s.commit([l, st, reading('a.example', 9), stLegacy, l, st]), [
      'stored',
      'stored',
      'stored',
      'stored',
      'duplicate',
      'duplicate',
    ])
    assert.deepEqual(await s.commit([stLegacy, st]), ['duplicate', 'duplicate'])
    await s.close()
  })

  it('an unreachable server is ERR_IO at open, naming the URL without its password', async () => {
    const url = `postgres://gw:s3cret@127.0.0.1:${server.port + 0}/no_such_db`
    await assert.rejects(
      new PostgresStore(url, quiet).open(),
      (e) => isDaneelError(e, 'ERR_IO') && e.message.includes('127.0.0.1') && !e.message.includes('s3cret'),
    )
  })

  it('--store postgres://… (with ?retention_days=N) opens a PostgresStore', async () => {
    const url = await freshUrl()
    assert.deepEqual(parseStoreUrl(`${url}?retention_days=400`), { kind: 'postgres', url, retentionDays: 400 })
    assert.deepEqual(parseStoreUrl('postgresql://db.example/x'), { kind: 'postgres', url: 'postgresql://db.example/x' })
    assert.throws(
      () => parseStoreUrl('postgres://gw:s3cret@db.example/x?retention_days=soon'),
      (e) => isDaneelError(e, 'ERR_CONFIG_INVALID') && /retention_days/.test(e.message) && !e.message.includes('s3cret'),
    )
    const s = await createStore(`${url}?retention_days=400`, quiet)
    assert.ok(s instanceof PostgresStore)
    await s.open()
    assert.deepEqual(await s.commit([reading('a.example', 1, { time: T0 })]), ['stored'])
    await s.close()
  })
})
