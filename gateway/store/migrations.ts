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
 * Checked by hand on PostgreSQL 15 (psql -v ON_ERROR_STOP=1): migration 1 and the SQLite store's commit
 * statements (the ON CONFLICT inserts and upserts) run there unchanged.
 * A migration is never edited once released: a change is a new, higher-numbered migration.
 */
export interface Migration {
  readonly version: number
  readonly name: string
  /** Statements separated by `;` at the end of a line. */
  readonly sql: string
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'nodes, readings, newest reading per sensor, node status, legacy replay digests',
    sql: `
CREATE TABLE nodes (
  node TEXT NOT NULL PRIMARY KEY,
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  auth TEXT NOT NULL,
  bound SMALLINT NOT NULL,
  readings BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE readings (
  node TEXT NOT NULL,
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
  CHECK ((bound = 1) = (seq IS NOT NULL)),
  UNIQUE (node, seq)
);
CREATE INDEX readings_node_time ON readings (node, time);
CREATE INDEX readings_time ON readings (time);
-- the newest reading per node and sensor ('' for a reading without a sensor id), kept in the commit's transaction
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
`,
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
 * Applies each missing migration in its own transaction, in order, and returns the versions applied. Running it
 * again applies nothing. A database newer than this code (an unknown version) is refused, so an old binary
 * never writes into a schema it does not know.
 */
export function runMigrations(db: MigrationTarget, now: number, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(SCHEMA_VERSION_DDL)
  const known = new Set(migrations.map((m) => m.version))
  const applied = new Set(db.versions())
  for (const v of applied)
    if (!known.has(v))
      throw new DaneelError(
        'ERR_CONFIG_INVALID',
        `store schema version ${v} is newer than this daneel (it knows up to ${Math.max(...known)})`,
      )
  const done: number[] = []
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue
    db.transaction(() => {
      for (const s of statements(m.sql)) db.exec(s)
      db.record(m.version, m.name, now)
    })
    done.push(m.version)
  }
  return done
}
