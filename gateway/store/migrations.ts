/** The store's schema as numbered migrations in plain SQL (SQLite and PostgreSQL alike), and the runner that applies them. */
import { DaneelError } from '../../src/errors.js'

/**
 * Portability rules, so a PostgreSQL store can run the same text:
 * - times are BIGINT milliseconds since the epoch (no DATETIME/TIMESTAMPTZ: SQLite has no such type, and ms
 *   integers compare and bucket identically in both);
 * - flags are SMALLINT 0/1 (SQLite has no boolean, and its driver cannot bind one);
 * - JSON is TEXT holding `JSON.stringify` output (PostgreSQL may cast it to jsonb in its queries);
 * - no AUTOINCREMENT/SERIAL: rows are keyed by what identifies them (node + seq, digest);
 * - no foreign keys: a reading and its node row are written in the same transaction, and a node row is an
 *   aggregate (counters, newest message), not a parent that must exist first;
 * - `INSERT ... ON CONFLICT DO NOTHING` (SQLite >= 3.24, PostgreSQL >= 9.5) is the duplicate check.
 * PostgreSQL runs the same text except where a migration gives a `postgres` variant (migration 1's partitioned
 * readings table); test/gateway/postgres-store.test.ts applies them to PostgreSQL 15.
 * A migration is never edited once released: a change is a new, higher-numbered migration.
 */
export interface Migration {
  readonly version: number
  readonly name: string
  /** Statements separated by `;` at the end of a line. */
  readonly sql: string
  /** The PostgreSQL text where it must differ (partitioning); otherwise PostgreSQL runs `sql`. */
  readonly postgres?: string
}

const NODES_V1 = `
CREATE TABLE nodes (
  node TEXT NOT NULL PRIMARY KEY,
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  auth TEXT NOT NULL,
  bound SMALLINT NOT NULL,
  readings BIGINT NOT NULL DEFAULT 0
);
`

/** Migration 1's reading columns, the same in SQLite and PostgreSQL. */
const READING_COLUMNS = `  node TEXT NOT NULL,
  seq BIGINT,
  digest TEXT NOT NULL,
  time BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  auth TEXT NOT NULL CHECK (auth IN ('dnssec', 'pkix-cd', 'offline')),
  profile TEXT NOT NULL,
  bound SMALLINT NOT NULL CHECK (bound IN (0, 1)),
  sensor TEXT,
  model TEXT,
  values_json TEXT NOT NULL,
`

/** Migration 1's readings table as SQLite keeps it: one table, UNIQUE (node, seq) is the replay guard. */
const READINGS_V1 = `CREATE TABLE readings (
${READING_COLUMNS}  CHECK ((bound = 1) = (seq IS NOT NULL)),
  UNIQUE (node, seq)
);
CREATE INDEX readings_node_time ON readings (node, time);
CREATE INDEX readings_time ON readings (time);
`

/**
 * Migration 1's readings table in PostgreSQL: declaratively partitioned by month on `time` (ms), so retention
 * drops whole partitions. A unique index on a partitioned table must contain the partition key, which
 * (node, seq) does not: the replay guard moves to `reading_keys`, one unpartitioned row per bound reading,
 * inserted `ON CONFLICT DO NOTHING` in the same transaction. `ins` keeps insertion order (SQLite's rowid).
 * Partitions are made by the store (gateway/store/pg-partitions.ts), not by migrations.
 */
const READINGS_V1_POSTGRES = `CREATE SEQUENCE readings_ins;
CREATE TABLE readings (
${READING_COLUMNS}  ins BIGINT NOT NULL DEFAULT nextval('readings_ins'),
  CHECK ((bound = 1) = (seq IS NOT NULL))
) PARTITION BY RANGE (time);
CREATE INDEX readings_node_time ON readings (node, time);
CREATE INDEX readings_time ON readings (time);
CREATE TABLE reading_keys (
  node TEXT NOT NULL,
  seq BIGINT NOT NULL,
  time BIGINT NOT NULL,
  PRIMARY KEY (node, seq)
);
CREATE INDEX reading_keys_time ON reading_keys (time);
`

const REST_V1 = `-- the newest reading per node and sensor ('' for a reading without a sensor id), kept in the commit's transaction
-- so that a node summary reads a few rows instead of scanning the node's history
CREATE TABLE latest_readings (
  node TEXT NOT NULL,
  sensor TEXT NOT NULL,
  model TEXT,
  time BIGINT NOT NULL,
  values_json TEXT NOT NULL,
  PRIMARY KEY (node, sensor)
);
CREATE TABLE node_status (
  node TEXT NOT NULL,
  seq BIGINT,
  digest TEXT NOT NULL,
  time BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  auth TEXT NOT NULL CHECK (auth IN ('dnssec', 'pkix-cd', 'offline')),
  profile TEXT NOT NULL,
  bound SMALLINT NOT NULL CHECK (bound IN (0, 1)),
  status_json TEXT NOT NULL,
  UNIQUE (node, seq)
);
CREATE INDEX node_status_node_time ON node_status (node, time);
CREATE TABLE legacy_digests (
  digest TEXT NOT NULL PRIMARY KEY,
  node TEXT NOT NULL,
  received_at BIGINT NOT NULL
);
CREATE INDEX legacy_digests_received ON legacy_digests (received_at);
`

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'nodes, readings, newest reading per sensor, node status, legacy replay digests',
    sql: NODES_V1 + READINGS_V1 + REST_V1,
    postgres: NODES_V1 + READINGS_V1_POSTGRES + REST_V1,
  },
]

/** The few synchronous operations the runner needs from a database connection. */
export interface MigrationTarget {
  exec(sql: string): void
  /** Applied versions, from the schema_version table (created by the runner if missing). */
  versions(): number[]
  record(version: number, name: string, appliedAt: number): void
  /** Runs `fn` in one transaction: all of it commits, or none of it. */
  transaction(fn: () => void): void
}

export const SCHEMA_VERSION_DDL =
  'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)'

/** Splits a migration into statements (our SQL has no `;` inside literals). */
export function statements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

/**
 * The migrations still to apply, in order. A database newer than this code (an unknown version) is refused, so
 * an old binary never writes into a schema it does not know.
 */
export function pendingMigrations(appliedVersions: readonly number[], migrations: readonly Migration[] = MIGRATIONS): Migration[] {
  const known = new Set(migrations.map((m) => m.version))
  const applied = new Set(appliedVersions)
  for (const v of applied)
    if (!known.has(v))
      throw new DaneelError(
        'ERR_CONFIG_INVALID',
        `store schema version ${v} is newer than this daneel (it knows up to ${Math.max(...known)})`,
      )
  return [...migrations].sort((a, b) => a.version - b.version).filter((m) => !applied.has(m.version))
}

/**
 * Applies each missing migration (SQLite text) in its own transaction, in order, and returns the versions
 * applied. Running it again applies nothing. (The PostgreSQL store runs `pendingMigrations` over its own
 * asynchronous connection.)
 */
export function runMigrations(db: MigrationTarget, now: number, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(SCHEMA_VERSION_DDL)
  const done: number[] = []
  for (const m of pendingMigrations(db.versions(), migrations)) {
    db.transaction(() => {
      for (const s of statements(m.sql)) db.exec(s)
      db.record(m.version, m.name, now)
    })
    done.push(m.version)
  }
  return done
}
