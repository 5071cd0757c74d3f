/** The store at scale: PostgreSQL through `pg`, readings partitioned by month, one transaction per batch, shared by workers. */
import pg from 'pg'
import { DaneelError, isDaneelError } from '../../src/errors.js'
import { BatchSummary, type NodeDelta } from './batch-summary.js'
import { incomingProblem } from './check.js'
import { pendingMigrations, SCHEMA_VERSION_DDL, statements } from './migrations.js'
import { addMonths, MonthlyPartitions, monthStart } from './pg-partitions.js'
import { pgNodes, pgReadings } from './postgres-readings.js'
import { redactUrl } from './redact.js'
import type { CommitOutcome, IncomingMessage, NodeSummary, ReadingQuery, ReadingRow, ReadingStore, StoredAuth } from './types.js'

/**
 * Exactly once with several workers: each batch is one transaction. Bound readings claim (node, seq) in
 * `reading_keys` and unbound ones their digest in `legacy_digests`, both `INSERT ... ON CONFLICT DO NOTHING
 * RETURNING`, so the database (not a worker's memory) decides what is new; a concurrent claim of the same key
 * waits for the other transaction and then sees the conflict. Only claimed messages are inserted into
 * `readings`. Rows are claimed in (node, seq) order and nodes upserted in name order, so two workers lock in
 * the same order. Durability: PostgreSQL's default `synchronous_commit = on` flushes the WAL before COMMIT
 * returns; the caller acknowledges to the broker after that.
 */
export interface PostgresStoreOptions {
  /** Connections in the pool (default 4): one commit at a time plus readers. */
  maxConnections?: number
  /** Readings older than this (by `time`) are dropped with their month's partition (default: kept forever). */
  retentionDays?: number
  /** Months created ahead of the current one (default 2). */
  aheadMonths?: number
  /** Unbound message digests are kept this long (ms, default 30 days), as in the SQLite store. */
  legacyWindowMs?: number
  /** Wall clock (ms) for partition upkeep and retention (tests move it). */
  now?: () => number
  log?: (line: string) => void
}

const UPKEEP_EVERY_MS = 3600_000
const MIGRATION_LOCK = 0x6d696772 // 'migr'

export class PostgresStore implements ReadingStore {
  readonly url: string
  readonly partitions = new MonthlyPartitions()
  readonly #opts: PostgresStoreOptions
  readonly #now: () => number
  readonly #log: (line: string) => void
  #pool: pg.Pool | undefined
  #lastUpkeep = Number.NEGATIVE_INFINITY

  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.url = url
    this.#opts = options
    this.#now = options.now ?? Date.now
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`))
    const r = options.retentionDays
    if (r !== undefined && !(Number.isFinite(r) && r > 0)) throw new RangeError('retentionDays must be a positive number')
  }

  /** Connects, migrates (one worker at a time, under an advisory lock), creates the months ahead, applies retention. */
  async open(): Promise<void> {
    if (this.#pool !== undefined) return
    const pool = new pg.Pool({ connectionString: this.url, max: this.#opts.maxConnections ?? 4 })
    // An idle connection that dies (server restart) is reported here; the pool replaces it on the next query.
    pool.on('error', (err) => this.#log(`postgres store: idle connection lost: ${err.message}`))
    try {
      const c = await pool.connect()
      try {
        await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
        try {
          await c.query(SCHEMA_VERSION_DDL)
          const applied = (await c.query<{ version: number }>('SELECT version FROM schema_version')).rows.map((r) => r.version)
          for (const m of pendingMigrations(applied)) {
            await c.query('BEGIN')
            try {
              for (const s of statements(m.postgres ?? m.sql)) await c.query(s)
              await c.query('INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()])
              await c.query('COMMIT')
            } catch (err) {
              await c.query('ROLLBACK').catch(() => undefined)
              throw err
            }
          }
        } finally {
          await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined)
        }
        await this.partitions.load(c)
      } finally {
        c.release()
      }
      this.#pool = pool
      await this.upkeep()
    } catch (err) {
      this.#pool = undefined
      await pool.end().catch(() => undefined)
      if (isDaneelError(err)) throw err
      const code = (err as { code?: unknown }).code
      throw new DaneelError(
        'ERR_IO',
        `cannot open the store ${redactUrl(this.url)}: ${typeof code === 'string' ? `${code}: ` : ''}${(err as Error).message}`,
        { cause: err },
      )
    }
  }

  /**
   * Creates the current month and `aheadMonths` more, drops months past retention (with their replay keys and
   * superseded status rows), prunes old legacy digests. Runs at open and then at most hourly from `commit`.
   */
  async upkeep(): Promise<{ created: string[]; dropped: string[] }> {
    const pool = this.#open()
    const now = this.#now()
    this.#lastUpkeep = now
    const c = await pool.connect()
    try {
      const cur = monthStart(now)
      const ahead = Array.from({ length: (this.#opts.aheadMonths ?? 2) + 1 }, (_, i) => addMonths(cur, i))
      const created = await this.partitions.ensure(c, ahead)
      let dropped: string[] = []
      const days = this.#opts.retentionDays
      if (days !== undefined) {
        const cutoff = now - days * 86_400_000
        dropped = await this.partitions.dropBefore(c, cutoff)
        // a key whose reading is gone no longer guards anything: a copy that old is refused by the receiver's
        // replay window long before, and if it came it would land in a partition dropped at the next sweep
        await c.query('DELETE FROM reading_keys WHERE time < $1', [monthStart(cutoff)])
        await c.query(
          `DELETE FROM node_status s WHERE s.time < $1
           AND EXISTS (SELECT 1 FROM node_status t WHERE t.node = s.node AND t.time > s.time)`,
          [cutoff],
        )
      }
      // the legacy window runs on the gateway's receive clock (the newest digest kept), as in the SQLite store
      await c.query('DELETE FROM legacy_digests WHERE received_at < (SELECT max(received_at) FROM legacy_digests) - $1::bigint', [
        this.#opts.legacyWindowMs ?? 30 * 86_400_000,
      ])
      if (created.length > 0 || dropped.length > 0)
        this.#log(`postgres store: partitions created [${created.join(', ')}], dropped [${dropped.join(', ')}]`)
      return { created, dropped }
    } finally {
      c.release()
    }
  }

  #open(): pg.Pool {
    if (this.#pool === undefined) throw new Error('the store is not open')
    return this.#pool
  }

  async commit(batch: readonly IncomingMessage[]): Promise<CommitOutcome[]> {
    const pool = this.#open()
    if (batch.length === 0) return []
    for (const m of batch) {
      const problem = incomingProblem(m)
      if (problem !== undefined) throw new TypeError(`store commit: ${problem} (node ${JSON.stringify(m.node)})`)
    }
    if (this.#now() - this.#lastUpkeep >= UPKEEP_EVERY_MS) await this.upkeep()
    const outcomes: CommitOutcome[] = batch.map(() => 'duplicate')
    // Within the batch, the first copy of a key is the candidate; later copies are duplicates already.
    const seen = new Set<string>()
    const candidates: number[] = []
    batch.forEach((m, i) => {
      const key = m.seq === null ? `d\0${m.digest}` : `${m.status === undefined ? 'r' : 's'}\0${m.node}\0${m.seq}`
      if (seen.has(key)) return
      seen.add(key)
      candidates.push(i)
    })
    const c = await pool.connect()
    try {
      await this.partitions.ensure(
        c,
        candidates.filter((i) => batch[i]?.status === undefined).map((i) => (batch[i] as IncomingMessage).time),
      )
      await c.query('BEGIN')
      try {
        const fresh = await this.#claim(c, batch, candidates)
        await this.#write(c, batch, fresh)
        await c.query('COMMIT')
        for (const i of fresh) outcomes[i] = 'stored'
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined)
        throw err
      }
    } finally {
      c.release()
    }
    return outcomes
  }

  /** Claims each candidate's replay key; returns the batch indices that are new, in batch order. */
  async #claim(c: pg.PoolClient, batch: readonly IncomingMessage[], candidates: number[]): Promise<number[]> {
    const at = (i: number): IncomingMessage => batch[i] as IncomingMessage
    const fresh = new Set<number>()
    const unbound = candidates.filter((i) => at(i).seq === null)
    if (unbound.length > 0) {
      const r = await c.query<{ digest: string }>(
        `INSERT INTO legacy_digests (digest, node, received_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING RETURNING digest`,
        [unbound.map((i) => at(i).digest), unbound.map((i) => at(i).node), unbound.map((i) => at(i).receivedAt)],
      )
      const got = new Set(r.rows.map((x) => x.digest))
      for (const i of unbound) if (got.has(at(i).digest)) fresh.add(i)
    }
    const byKey = (a: number, b: number): number => {
      const x = at(a)
      const y = at(b)
      return x.node < y.node ? -1 : x.node > y.node ? 1 : (x.seq as number) - (y.seq as number)
    }
    const readings = candidates.filter((i) => at(i).seq !== null && at(i).status === undefined).sort(byKey)
    if (readings.length > 0) {
      const r = await c.query<{ node: string; seq: string }>(
        `INSERT INTO reading_keys (node, seq, time)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) ON CONFLICT DO NOTHING RETURNING node, seq`,
        [readings.map((i) => at(i).node), readings.map((i) => at(i).seq), readings.map((i) => at(i).time)],
      )
      const got = new Set(r.rows.map((x) => `${x.node}\0${x.seq}`))
      for (const i of readings) if (got.has(`${at(i).node}\0${at(i).seq}`)) fresh.add(i)
    }
    // status messages: node_status's own UNIQUE (node, seq) is their guard (unbound ones passed the digest claim)
    const statuses = candidates
      .filter((i) => at(i).status !== undefined && (at(i).seq !== null || fresh.has(i)))
      .sort((a, b) => (at(a).seq === null || at(b).seq === null ? 0 : byKey(a, b)))
    if (statuses.length > 0) {
      const ms = statuses.map(at)
      const r = await c.query<{ node: string; seq: string | null; digest: string }>(
        `INSERT INTO node_status (node, seq, digest, time, received_at, auth, profile, bound, status_json)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[],
                              $8::smallint[], $9::text[])
         ON CONFLICT DO NOTHING RETURNING node, seq, digest`,
        [
          ms.map((m) => m.node),
          ms.map((m) => m.seq),
          ms.map((m) => m.digest),
          ms.map((m) => m.time),
          ms.map((m) => m.receivedAt),
          ms.map((m) => m.auth),
          ms.map((m) => m.profile),
          ms.map((m) => (m.bound ? 1 : 0)),
          ms.map((m) => JSON.stringify(m.status)),
        ],
      )
      const got = new Set(r.rows.map(statusKey))
      for (const i of statuses) {
        const m = at(i)
        if (got.has(statusKey({ node: m.node, seq: m.seq === null ? null : String(m.seq), digest: m.digest }))) fresh.add(i)
        else fresh.delete(i)
      }
    }
    return [...fresh].sort((a, b) => a - b)
  }

  /** Inserts the fresh readings (in batch order) and folds them into nodes and latest_readings. */
  async #write(c: pg.PoolClient, batch: readonly IncomingMessage[], fresh: number[]): Promise<void> {
    const ms = fresh.map((i) => batch[i] as IncomingMessage)
    const readings = ms.filter((m) => m.status === undefined)
    if (readings.length > 0)
      await c.query(
        `INSERT INTO readings (node, seq, digest, time, received_at, auth, profile, bound, sensor, model, values_json)
         SELECT node, seq, digest, time, received_at, auth, profile, bound, sensor, model, values_json
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::smallint[],
                     $9::text[], $10::text[], $11::text[])
           WITH ORDINALITY AS m(node, seq, digest, time, received_at, auth, profile, bound, sensor, model, values_json, ord)
         ORDER BY ord`,
        [
          readings.map((m) => m.node),
          readings.map((m) => m.seq),
          readings.map((m) => m.digest),
          readings.map((m) => m.time),
          readings.map((m) => m.receivedAt),
          readings.map((m) => m.auth),
          readings.map((m) => m.profile),
          readings.map((m) => (m.bound ? 1 : 0)),
          readings.map((m) => m.sensor),
          readings.map((m) => m.model),
          readings.map((m) => JSON.stringify(m.values)),
        ],
      )
    const summary = new BatchSummary()
    for (const m of ms) summary.add(m)
    const { nodes, latest } = summary
    if (nodes.size > 0) {
      const names = [...nodes.keys()].sort()
      const ds = names.map((n) => nodes.get(n) as NodeDelta)
      // the newest message decides a node's auth and bound; times only move forward (as in the SQLite store)
      await c.query(
        `INSERT INTO nodes (node, first_seen, last_seen, auth, bound, readings)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::smallint[], $6::bigint[])
         ON CONFLICT (node) DO UPDATE SET
           readings = nodes.readings + excluded.readings,
           auth = CASE WHEN excluded.last_seen >= nodes.last_seen THEN excluded.auth ELSE nodes.auth END,
           bound = CASE WHEN excluded.last_seen >= nodes.last_seen THEN excluded.bound ELSE nodes.bound END,
           last_seen = GREATEST(excluded.last_seen, nodes.last_seen)`,
        [
          names,
          ds.map((d) => d.first),
          ds.map((d) => d.last),
          ds.map((d) => d.auth),
          ds.map((d) => (d.bound ? 1 : 0)),
          ds.map((d) => d.readings),
        ],
      )
    }
    if (latest.size > 0) {
      const keys = [...latest.keys()].sort()
      const ls = keys.map((k) => latest.get(k) as IncomingMessage)
      await c.query(
        `INSERT INTO latest_readings (node, sensor, model, time, values_json)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])
         ON CONFLICT (node, sensor) DO UPDATE SET model = excluded.model, time = excluded.time, values_json = excluded.values_json
         WHERE excluded.time >= latest_readings.time`,
        [
          ls.map((m) => m.node),
          ls.map((m) => m.sensor ?? ''),
          ls.map((m) => m.model),
          ls.map((m) => m.time),
          ls.map((m) => JSON.stringify(m.values)),
        ],
      )
    }
  }

  async readings(q: ReadingQuery): Promise<ReadingRow[]> {
    return pgReadings(this.#open(), q)
  }

  async nodes(): Promise<NodeSummary[]> {
    return pgNodes(this.#open())
  }

  async count(): Promise<number> {
    const r = await this.#open().query<{ n: string }>('SELECT coalesce(sum(readings), 0)::bigint AS n FROM nodes')
    return Number(r.rows[0]?.n ?? 0)
  }

  async close(): Promise<void> {
    const pool = this.#pool
    this.#pool = undefined
    await pool?.end()
  }
}

const statusKey = (r: { node: string; seq: string | null; digest: string }): string =>
  r.seq === null ? `d\0${r.digest}` : `s\0${r.node}\0${r.seq}`
