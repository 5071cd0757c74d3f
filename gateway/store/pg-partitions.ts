/** Monthly partitions of the PostgreSQL readings table: named, created ahead and on demand, dropped past retention. */
import type { PoolClient } from 'pg'

/**
 * `readings` is `PARTITION BY RANGE (time)` over ms since the epoch (migrations.ts). Each calendar month (UTC)
 * is one partition `readings_pYYYYMM`, FROM its first ms TO the next month's first ms. There is no DEFAULT
 * partition: a row for a month without a partition would fail its insert, so the store creates the months of a
 * batch before the batch's transaction, and the current month plus `aheadMonths` at open and at every sweep.
 * Creation and dropping hold a transaction-scoped advisory lock, so several gateway workers never race on DDL.
 */
const LOCK_KEY = 0x64616e65 // 'dane': one advisory lock for all partition DDL

/** The first ms (UTC) of the month holding `ms`. */
export function monthStart(ms: number): number {
  const d = new Date(ms)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
}

/** The first ms of the month `n` months after the one starting at `start`. */
export function addMonths(start: number, n: number): number {
  const d = new Date(start)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1)
}

export function partitionName(start: number): string {
  const d = new Date(start)
  return `readings_p${String(d.getUTCFullYear()).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}`
}

export class MonthlyPartitions {
  /** Month starts known to have a partition (a cache: a miss costs one idempotent CREATE ... IF NOT EXISTS). */
  readonly #known = new Set<number>()

  /** Reads the partitions that exist. */
  async load(c: PoolClient): Promise<void> {
    const r = await c.query<{ name: string }>(
      `SELECT child.relname AS name FROM pg_inherits i
       JOIN pg_class parent ON parent.oid = i.inhparent JOIN pg_class child ON child.oid = i.inhrelid
       JOIN pg_namespace n ON n.oid = parent.relnamespace
       WHERE parent.relname = 'readings' AND n.nspname = current_schema()`,
    )
    this.#known.clear()
    for (const { name } of r.rows) {
      const m = /^readings_p(\d{4})(\d{2})$/.exec(name)
      if (m !== null) this.#known.add(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1))
    }
  }

  /** The months that exist, ascending (for tests and the start-up log). */
  months(): number[] {
    return [...this.#known].sort((a, b) => a - b)
  }

  /** Makes sure each month holding one of `times` has its partition; returns the names created. */
  async ensure(c: PoolClient, times: Iterable<number>): Promise<string[]> {
    const missing = new Set<number>()
    for (const t of times) {
      const start = monthStart(t)
      if (!this.#known.has(start)) missing.add(start)
    }
    if (missing.size === 0) return []
    const created: string[] = []
    await c.query('BEGIN')
    try {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY])
      for (const start of [...missing].sort((a, b) => a - b)) {
        const name = partitionName(start)
        const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class WHERE relname = $1 AND relkind = 'r'`, [name])
        if (r.rows[0]?.n === 0) {
          await c.query(`CREATE TABLE ${name} PARTITION OF readings FOR VALUES FROM (${start}) TO (${addMonths(start, 1)})`)
          created.push(name)
        }
      }
      await c.query('COMMIT')
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined)
      throw err
    }
    for (const start of missing) this.#known.add(start)
    return created
  }

  /** Drops every partition whose months ended at or before `cutoff` (ms); returns the names dropped. */
  async dropBefore(c: PoolClient, cutoff: number): Promise<string[]> {
    await this.load(c)
    const old = this.months().filter((start) => addMonths(start, 1) <= cutoff)
    if (old.length === 0) return []
    await c.query('BEGIN')
    try {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY])
      for (const start of old) await c.query(`DROP TABLE IF EXISTS ${partitionName(start)}`)
      await c.query('COMMIT')
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined)
      throw err
    }
    for (const start of old) this.#known.delete(start)
    return old.map(partitionName)
  }
}
