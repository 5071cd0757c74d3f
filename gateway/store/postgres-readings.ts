/** Reading queries and node summaries on the PostgreSQL store, with the SQLite store's ordering and step semantics. */
import type pg from 'pg'
import { checkQuery } from './sqlite-readings.js'
import type { NodeSummary, ReadingQuery, ReadingRow, StoredAuth } from './types.js'

const iso = (ms: number | string): string => new Date(Number(ms)).toISOString()

/**
 * Same results as sqlite-readings.ts: names order byte-wise (COLLATE "C", as SQLite's BINARY), a null sensor
 * first (SQLite's NULL order), ties in insertion order (`ins`, SQLite's rowid). BIGINT columns arrive as strings
 * from `pg` and are converted here.
 */
export async function pgReadings(pool: pg.Pool, q: ReadingQuery): Promise<ReadingRow[]> {
  checkQuery(q)
  const where: string[] = []
  const args: unknown[] = []
  const arg = (v: unknown): string => {
    args.push(v)
    return `$${args.length}`
  }
  if (q.node !== undefined) where.push(`node = ${arg(q.node)}`)
  if (q.from !== undefined) where.push(`time >= ${arg(q.from)}::bigint`)
  if (q.to !== undefined) where.push(`time < ${arg(q.to)}::bigint`)
  const dir = q.from !== undefined || q.to !== undefined ? 'ASC' : 'DESC'
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
  const limit = arg(q.limit ?? null) // LIMIT NULL is no limit
  if (q.stepSeconds === undefined) {
    const r = await pool.query<{
      node: string
      seq: string | null
      time: string
      received_at: string
      auth: StoredAuth
      bound: number
      sensor: string | null
      model: string | null
      values_json: string
    }>(
      `SELECT node, seq, time, received_at, auth, bound, sensor, model, values_json FROM readings ${filter}
       ORDER BY time ${dir}, ins ${dir} LIMIT ${limit}::bigint`,
      args,
    )
    return r.rows.map((x) => ({
      node: x.node,
      seq: x.seq === null ? null : Number(x.seq),
      time: iso(x.time),
      receivedAt: iso(x.received_at),
      auth: x.auth,
      bound: x.bound === 1,
      sensor: x.sensor,
      model: x.model,
      values: JSON.parse(x.values_json) as Record<string, number>,
    }))
  }
  const step = arg(Math.round(q.stepSeconds * 1000))
  // Steps first (limited), then the mean of every numeric key over the readings of each chosen step; auth and
  // model are those of the step's newest arrival.
  const r = await pool.query<{
    node: string
    sensor: string | null
    bucket: string
    received: string
    auth: StoredAuth
    model: string | null
    all_bound: boolean
    k: string | null
    v: number | null
  }>(
    `WITH r AS (
       SELECT node, sensor, time - time % ${step}::bigint AS bucket, received_at, auth, model, bound, values_json, ins
       FROM readings ${filter}),
     b AS (
       SELECT node, sensor, bucket, max(received_at) AS received, bool_and(bound = 1) AS all_bound,
              (array_agg(auth ORDER BY received_at DESC, ins DESC))[1] AS auth,
              (array_agg(model ORDER BY received_at DESC, ins DESC))[1] AS model
       FROM r GROUP BY node, sensor, bucket
       ORDER BY bucket ${dir}, node COLLATE "C", sensor COLLATE "C" NULLS FIRST LIMIT ${limit}::bigint)
     SELECT b.node, b.sensor, b.bucket, b.received, b.auth, b.model, b.all_bound, j.key AS k, avg(j.value::float8) AS v
     FROM b
     JOIN r ON r.node = b.node AND r.sensor IS NOT DISTINCT FROM b.sensor AND r.bucket = b.bucket
     LEFT JOIN LATERAL jsonb_each(r.values_json::jsonb) j ON jsonb_typeof(j.value) = 'number'
     GROUP BY b.node, b.sensor, b.bucket, b.received, b.auth, b.model, b.all_bound, j.key
     ORDER BY b.bucket ${dir}, b.node COLLATE "C", b.sensor COLLATE "C" NULLS FIRST, j.key COLLATE "C"`,
    args,
  )
  const out: ReadingRow[] = []
  let cur: ReadingRow | undefined
  let curKey = ''
  for (const x of r.rows) {
    const key = `${x.node}\0${x.sensor ?? ''}\0${x.sensor === null ? 'n' : 's'}\0${x.bucket}`
    if (cur === undefined || key !== curKey) {
      cur = {
        node: x.node,
        seq: null,
        time: iso(x.bucket),
        receivedAt: iso(x.received),
        auth: x.auth,
        bound: x.all_bound,
        sensor: x.sensor,
        model: x.model,
        values: {},
      }
      curKey = key
      out.push(cur)
    }
    if (x.k !== null && x.v !== null) cur.values[x.k] = x.v
  }
  return out
}

/** Every node with its newest values per sensor and newest status: three queries, whatever the node count. */
export async function pgNodes(pool: pg.Pool): Promise<NodeSummary[]> {
  const [nodes, latest, status] = await Promise.all([
    pool.query<{ node: string; last_seen: string; auth: StoredAuth; bound: number; readings: string }>(
      'SELECT node, last_seen, auth, bound, readings FROM nodes ORDER BY node COLLATE "C"',
    ),
    pool.query<{ node: string; sensor: string; model: string | null; time: string; values_json: string }>(
      'SELECT node, sensor, model, time, values_json FROM latest_readings ORDER BY node COLLATE "C", sensor COLLATE "C"',
    ),
    pool.query<{ node: string; status_json: string; time: string }>(
      'SELECT DISTINCT ON (node) node, status_json, time FROM node_status ORDER BY node, time DESC, received_at DESC',
    ),
  ])
  const latestBy = new Map<string, NodeSummary['latest']>()
  for (const l of latest.rows) {
    const m = latestBy.get(l.node) ?? {}
    latestBy.set(l.node, m)
    m[l.sensor] = { model: l.model, time: iso(l.time), values: JSON.parse(l.values_json) as Record<string, number> }
  }
  const statusBy = new Map(status.rows.map((s) => [s.node, s]))
  return nodes.rows.map((n) => {
    const s = statusBy.get(n.node)
    return {
      node: n.node,
      lastSeen: iso(n.last_seen),
      auth: n.auth,
      bound: n.bound === 1,
      readings: Number(n.readings),
      latest: latestBy.get(n.node) ?? {},
      status: s === undefined ? null : (JSON.parse(s.status_json) as Record<string, unknown>),
      statusTime: s === undefined ? null : iso(s.time),
    }
  })
}
