/** Reading queries on the SQLite store: by node and time range, newest N, or averaged per step (in SQL, via json_each). */
import type Database from 'better-sqlite3'
import type { ReadingQuery, ReadingRow, StoredAuth } from './types.js'

interface Row {
  node: string
  seq: number | null
  time: number
  received_at: number
  auth: StoredAuth
  bound: number
  sensor: string | null
  model: string | null
  values_json: string
}

interface StepRow {
  node: string
  sensor: string | null
  bucket: number
  received: number
  auth: StoredAuth
  model: string | null
  all_bound: number
  k: string | null
  v: number | null
}

const iso = (ms: number): string => new Date(Number(ms)).toISOString()

/** Checks a query's numbers; the HTTP layer parses user input, this guards the interface. */
export function checkQuery(q: ReadingQuery): void {
  for (const k of ['from', 'to'] as const) {
    const v = q[k]
    if (v !== undefined && !Number.isSafeInteger(v)) throw new RangeError(`readings query: ${k} must be an integer of ms since the epoch`)
  }
  if (q.limit !== undefined && !(Number.isSafeInteger(q.limit) && q.limit > 0))
    throw new RangeError('readings query: limit must be a positive integer')
  if (q.stepSeconds !== undefined && !(Number.isFinite(q.stepSeconds) && q.stepSeconds * 1000 >= 1))
    throw new RangeError('readings query: stepSeconds must be a positive number (at least 1 ms)')
}

/**
 * Without a range the newest `limit` rows come first; with `from` or `to` rows are in ascending time. Ties keep
 * insertion order (rowid). With `stepSeconds`, a row is one node + sensor + step: `time` is the step start,
 * `values` the mean of each numeric key over the step, `receivedAt`, `auth` and `model` those of the step's
 * newest arrival, `bound` true only when every reading in it was bound, `seq` null; `limit` counts steps.
 */
export function readingsQuery(db: Database.Database, q: ReadingQuery): ReadingRow[] {
  checkQuery(q)
  const where: string[] = []
  const args: Record<string, number | string> = {}
  if (q.node !== undefined) {
    where.push('node = @node')
    args.node = q.node
  }
  if (q.from !== undefined) {
    where.push('time >= @from')
    args.from = q.from
  }
  if (q.to !== undefined) {
    where.push('time < @to')
    args.to = q.to
  }
  const ranged = q.from !== undefined || q.to !== undefined
  const dir = ranged ? 'ASC' : 'DESC'
  args.limit = q.limit ?? -1 // SQLite: a negative LIMIT is no limit
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
  if (q.stepSeconds === undefined) {
    const rows = db
      .prepare(
        `SELECT node, seq, time, received_at, auth, bound, sensor, model, values_json FROM readings ${filter}
         ORDER BY time ${dir}, rowid ${dir} LIMIT @limit`,
      )
      .all(args) as Row[]
    return rows.map((r) => ({
      node: r.node,
      seq: r.seq === null ? null : Number(r.seq),
      time: iso(r.time),
      receivedAt: iso(r.received_at),
      auth: r.auth,
      bound: r.bound === 1,
      sensor: r.sensor,
      model: r.model,
      values: JSON.parse(r.values_json) as Record<string, number>,
    }))
  }
  args.step = Math.round(q.stepSeconds * 1000)
  // Steps first (limited), then the mean of every numeric key of the readings in each chosen step. In the step
  // query, max(received_at) is its only min/max aggregate, so SQLite takes the bare auth and model from that row.
  const rRange = [q.from !== undefined ? 'AND r.time >= @from' : '', q.to !== undefined ? 'AND r.time < @to' : ''].join(' ')
  const rows = db
    .prepare(
      `WITH b AS (
         SELECT node, sensor, time - time % @step AS bucket, max(received_at) AS received, auth, model,
                sum(bound) = count(*) AS all_bound
         FROM readings ${filter}
         GROUP BY node, sensor, bucket
         ORDER BY bucket ${dir}, node, sensor LIMIT @limit)
       SELECT b.node, b.sensor, b.bucket, b.received, b.auth, b.model, b.all_bound, j.key AS k, avg(j.value) AS v
       FROM b
       JOIN readings r ON r.node = b.node AND r.sensor IS b.sensor AND r.time >= b.bucket AND r.time < b.bucket + @step ${rRange}
       LEFT JOIN json_each(r.values_json) j ON j.type IN ('integer', 'real')
       GROUP BY b.node, b.sensor, b.bucket, j.key
       ORDER BY b.bucket ${dir}, b.node, b.sensor, j.key`,
    )
    .all(args) as StepRow[]
  const out: ReadingRow[] = []
  let cur: ReadingRow | undefined
  let curKey = ''
  for (const r of rows) {
    const key = `${r.node}\0${r.sensor ?? ''}\0${r.sensor === null ? 'n' : 's'}\0${r.bucket}`
    if (cur === undefined || key !== curKey) {
      cur = {
        node: r.node,
        seq: null,
        time: iso(r.bucket),
        receivedAt: iso(r.received),
        auth: r.auth,
        bound: r.all_bound === 1,
        sensor: r.sensor,
        model: r.model,
        values: {},
      }
      curKey = key
      out.push(cur)
    }
    if (r.k !== null && r.v !== null) cur.values[r.k] = r.v
  }
  return out
}
