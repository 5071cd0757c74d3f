/** The embedded store: SQLite through better-sqlite3, WAL mode, one transaction per batch, fsync on every commit. */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { DaneelError, isDaneelError } from '../../src/errors.js'
import { BatchSummary } from './batch-summary.js'
import { incomingProblem } from './check.js'
import { runMigrations } from './migrations.js'
import { readingsQuery } from './sqlite-readings.js'
import type { CommitOutcome, IncomingMessage, NodeSummary, ReadingQuery, ReadingRow, ReadingStore, StoredAuth } from './types.js'

/**
 * Durability: WAL with `synchronous = FULL` fsyncs the WAL at every commit, so a commit that returned survives a
 * power cut, not only a process kill (NORMAL would sync only at checkpoints: a power cut could take back commits
 * whose PUBACKs had gone out, and the broker would not send them again). The fsync is the price of acking after
 * commit; group commit spreads it over a batch (bench/gateway-store.ts measures it).
 * The driver is synchronous: a commit blocks the event loop for its fsync (milliseconds), which the ingest's
 * batching keeps to one per batch.
 */
export interface SqliteStoreOptions {
  /** How long a writer waits for another connection's lock before SQLITE_BUSY (ms). */
  busyTimeoutMs?: number
  /** Unbound (legacy) message digests are kept this long for the byte-exact replay check (ms). */
  legacyWindowMs?: number
  /**
   * A cap on the database size (rounded down to whole pages): past it a commit fails with SQLITE_FULL, exactly as
   * on a full disk (retried, never acknowledged). For a gateway on an SD card that must leave room for the rest.
   */
  maxSizeBytes?: number
}

export const DEFAULT_LEGACY_WINDOW_MS = 30 * 24 * 3600_000
const PRUNE_EVERY_MS = 60_000

const iso = (ms: number): string => new Date(Number(ms)).toISOString()

export class SqliteStore implements ReadingStore {
  readonly path: string
  #opts: Required<Omit<SqliteStoreOptions, 'maxSizeBytes'>>
  #maxSizeBytes: number | undefined
  #db: Database.Database | undefined
  #commit: ((batch: readonly IncomingMessage[]) => CommitOutcome[]) | undefined
  #lastPrune = 0
  #newest = 0

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path
    this.#opts = {
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      legacyWindowMs: options.legacyWindowMs ?? DEFAULT_LEGACY_WINDOW_MS,
    }
    this.#maxSizeBytes = options.maxSizeBytes
  }

  /** Opens (creating it and its folder if need be) and migrates. A path that cannot hold a database is ERR_IO. */
  async open(): Promise<void> {
    if (this.#db !== undefined) return
    let db: Database.Database | undefined
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 })
      db = new Database(this.path, { timeout: this.#opts.busyTimeoutMs })
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = FULL')
      const conn = db
      runMigrations(
        {
          exec: (sql) => conn.exec(sql),
          versions: () => (conn.prepare('SELECT version FROM schema_version').all() as { version: number }[]).map((r) => r.version),
          record: (version, name, at) =>
            conn.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(version, name, at),
          transaction: (fn) => conn.transaction(fn).immediate(),
        },
        Date.now(),
      )
    } catch (err) {
      db?.close()
      if (isDaneelError(err)) throw err
      const code = (err as { code?: unknown }).code
      throw new DaneelError(
        'ERR_IO',
        `cannot open the store ${this.path}: ${typeof code === 'string' ? `${code}: ` : ''}${(err as Error).message}`,
        {
          cause: err,
        },
      )
    }
    this.#db = db
    this.#commit = this.#prepareCommit(db)
    if (this.#maxSizeBytes !== undefined) this.setMaxSizeBytes(this.#maxSizeBytes)
  }

  /** Changes the size cap of the open database (`PRAGMA max_page_count`; it never goes below the current size). */
  setMaxSizeBytes(bytes: number): void {
    const db = this.#open()
    this.#maxSizeBytes = bytes
    const pageSize = Number(db.pragma('page_size', { simple: true }))
    db.pragma(`max_page_count = ${Math.max(1, Math.floor(bytes / pageSize))}`)
  }

  #prepareCommit(db: Database.Database): (batch: readonly IncomingMessage[]) => CommitOutcome[] {
    const insertReading = db.prepare(
      `INSERT INTO readings (node, seq, digest, time, received_at, auth, profile, bound, sensor, model, values_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    )
    const insertStatus = db.prepare(
      `INSERT INTO node_status (node, seq, digest, time, received_at, auth, profile, bound, status_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    )
    const insertDigest = db.prepare('INSERT INTO legacy_digests (digest, node, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
    const pruneDigests = db.prepare('DELETE FROM legacy_digests WHERE received_at < ?')
    // The newest message decides a node's auth and bound; times only move forward.
    const upsertNode = db.prepare(
      `INSERT INTO nodes (node, first_seen, last_seen, auth, bound, readings) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (node) DO UPDATE SET
         readings = nodes.readings + excluded.readings,
         auth = CASE WHEN excluded.last_seen >= nodes.last_seen THEN excluded.auth ELSE nodes.auth END,
         bound = CASE WHEN excluded.last_seen >= nodes.last_seen THEN excluded.bound ELSE nodes.bound END,
         last_seen = CASE WHEN excluded.last_seen > nodes.last_seen THEN excluded.last_seen ELSE nodes.last_seen END`,
    )
    const upsertLatest = db.prepare(
      `INSERT INTO latest_readings (node, sensor, model, time, values_json) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (node, sensor) DO UPDATE SET model = excluded.model, time = excluded.time, values_json = excluded.values_json
       WHERE excluded.time >= latest_readings.time`,
    )
    const tx = db.transaction((batch: readonly IncomingMessage[]): CommitOutcome[] => {
      const outcomes: CommitOutcome[] = []
      const summary = new BatchSummary()
      for (const m of batch) {
        const bound = m.bound ? 1 : 0
        // An unbound message has no sequence number: its digest, kept for the window, is its replay key.
        let fresh = m.seq !== null || insertDigest.run(m.digest, m.node, m.receivedAt).changes === 1
        if (fresh) {
          fresh =
            (m.status !== undefined
              ? insertStatus.run(m.node, m.seq, m.digest, m.time, m.receivedAt, m.auth, m.profile, bound, JSON.stringify(m.status))
              : insertReading.run(
                  m.node,
                  m.seq,
                  m.digest,
                  m.time,
                  m.receivedAt,
                  m.auth,
                  m.profile,
                  bound,
                  m.sensor,
                  m.model,
                  JSON.stringify(m.values),
                )
            ).changes === 1
        }
        outcomes.push(fresh ? 'stored' : 'duplicate')
        if (!fresh) continue
        summary.add(m)
      }
      for (const [node, d] of summary.nodes) upsertNode.run(node, d.first, d.last, d.auth, d.bound ? 1 : 0, d.readings)
      for (const m of summary.latest.values()) upsertLatest.run(m.node, m.sensor ?? '', m.model, m.time, JSON.stringify(m.values))
      // The window is measured on the gateway's receive clock (the newest receivedAt committed), so the check
      // agrees with the times stored beside it.
      let now = this.#newest
      for (const m of batch) if (m.receivedAt > now) now = m.receivedAt
      this.#newest = now
      if (now - this.#lastPrune >= PRUNE_EVERY_MS) {
        pruneDigests.run(now - this.#opts.legacyWindowMs)
        this.#lastPrune = now
      }
      return outcomes
    })
    // IMMEDIATE takes the write lock at BEGIN, so a busy database fails (and is retried) before any work is done.
    return (batch) => tx.immediate(batch)
  }

  /** The connection's durability settings as SQLite reports them (for the start-up log and tests). */
  durability(): { journalMode: string; synchronous: 'off' | 'normal' | 'full' | 'extra'; busyTimeoutMs: number } {
    const db = this.#open()
    const sync = Number(db.pragma('synchronous', { simple: true }))
    return {
      journalMode: String(db.pragma('journal_mode', { simple: true })),
      synchronous: (['off', 'normal', 'full', 'extra'] as const)[sync] ?? 'off',
      busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
    }
  }

  #open(): Database.Database {
    if (this.#db === undefined) throw new Error('the store is not open')
    return this.#db
  }

  async commit(batch: readonly IncomingMessage[]): Promise<CommitOutcome[]> {
    this.#open()
    if (batch.length === 0) return []
    for (const m of batch) {
      const problem = incomingProblem(m)
      if (problem !== undefined) throw new TypeError(`store commit: ${problem} (node ${JSON.stringify(m.node)})`)
    }
    return (this.#commit as (b: readonly IncomingMessage[]) => CommitOutcome[])(batch)
  }

  async readings(q: ReadingQuery): Promise<ReadingRow[]> {
    return readingsQuery(this.#open(), q)
  }

  async nodes(): Promise<NodeSummary[]> {
    const db = this.#open()
    const nodes = db.prepare('SELECT node, last_seen, auth, bound, readings FROM nodes ORDER BY node').all() as {
      node: string
      last_seen: number
      auth: StoredAuth
      bound: number
      readings: number
    }[]
    const latest = db.prepare('SELECT sensor, model, time, values_json FROM latest_readings WHERE node = ? ORDER BY sensor')
    const status = db.prepare('SELECT status_json, time FROM node_status WHERE node = ? ORDER BY time DESC, received_at DESC LIMIT 1')
    return nodes.map((n) => {
      const s = status.get(n.node) as { status_json: string; time: number } | undefined
      const l: NodeSummary['latest'] = {}
      for (const r of latest.all(n.node) as { sensor: string; model: string | null; time: number; values_json: string }[])
        l[r.sensor] = { model: r.model, time: iso(r.time), values: JSON.parse(r.values_json) as Record<string, number> }
      return {
        node: n.node,
        lastSeen: iso(n.last_seen),
        auth: n.auth,
        bound: n.bound === 1,
        readings: Number(n.readings),
        latest: l,
        status: s === undefined ? null : (JSON.parse(s.status_json) as Record<string, unknown>),
        statusTime: s === undefined ? null : iso(s.time),
      }
    })
  }

  async count(): Promise<number> {
    const row = this.#open().prepare('SELECT coalesce(sum(readings), 0) AS n FROM nodes').get() as { n: number }
    return Number(row.n)
  }

  async close(): Promise<void> {
    const db = this.#db
    this.#db = undefined
    this.#commit = undefined
    db?.close()
  }
}
