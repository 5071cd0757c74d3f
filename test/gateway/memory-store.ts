/** An in-memory ReadingStore: the HTTP layer's test double (the SQLite store replaces it in the gateway). */
import { incomingProblem } from '../../gateway/store/check.js'
import { checkQuery } from '../../gateway/store/sqlite-readings.js'
import type { CommitOutcome, IncomingMessage, NodeSummary, ReadingQuery, ReadingRow, ReadingStore } from '../../gateway/store/types.js'

export class MemoryStore implements ReadingStore {
  private readonly messages: IncomingMessage[] = []
  private readonly keys = new Set<string>()
  /** Set to make every call reject (store failure paths). */
  failWith: Error | null = null

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async commit(batch: readonly IncomingMessage[]): Promise<CommitOutcome[]> {
    this.check()
    // As the real store: a malformed message fails the whole commit before anything is stored.
    for (const m of batch) {
      const problem = incomingProblem(m)
      if (problem !== undefined) throw new TypeError(`message from ${m.node}: ${problem}`)
    }
    return batch.map((m) => {
      const key = m.seq === null ? `d:${m.digest}` : `s:${m.node}:${m.seq}`
      if (this.keys.has(key)) return 'duplicate'
      this.keys.add(key)
      this.messages.push(m)
      return 'stored'
    })
  }

  async count(): Promise<number> {
    return this.messages.filter((m) => m.status === undefined).length
  }

  async readings(q: ReadingQuery): Promise<ReadingRow[]> {
    this.check()
    checkQuery(q)
    let rows = this.messages.filter(
      (m) =>
        m.status === undefined &&
        (q.node === undefined || m.node === q.node) &&
        (q.from === undefined || m.time >= q.from) &&
        (q.to === undefined || m.time < q.to),
    )
    const ranged = q.from !== undefined || q.to !== undefined
    rows.sort((a, b) => (ranged ? a.time - b.time : b.time - a.time))
    if (q.stepSeconds !== undefined) rows = average(rows, q.stepSeconds * 1000, ranged)
    return rows.slice(0, q.limit ?? rows.length).map(toRow)
  }

  async nodes(): Promise<NodeSummary[]> {
    this.check()
    const by = new Map<string, NodeSummary>()
    const newest = [...this.messages].sort((a, b) => a.receivedAt - b.receivedAt)
    for (const m of newest) {
      const n = by.get(m.node) ?? {
        node: m.node,
        lastSeen: '',
        auth: m.auth,
        bound: m.bound,
        readings: 0,
        latest: {},
        status: null,
        statusTime: null,
      }
      n.lastSeen = iso(m.receivedAt)
      n.auth = m.auth
      n.bound = m.bound
      if (m.status !== undefined) {
        n.status = m.status
        n.statusTime = iso(m.time)
      } else {
        n.readings++
        n.latest[m.sensor ?? ''] = { model: m.model, time: iso(m.time), values: m.values }
      }
      by.set(m.node, n)
    }
    return [...by.values()].sort((a, b) => a.node.localeCompare(b.node))
  }

  private check(): void {
    if (this.failWith !== null) throw this.failWith
  }
}

/**
 * Per node + sensor and step: the mean of each value key, time = step start, seq null, bound only when every
 * reading in it was, auth/model/receivedAt of its newest arrival (the ReadingQuery contract). Steps ascend in a
 * range and descend without one; within a step, by node, then sensor (null first).
 */
function average(rows: IncomingMessage[], stepMs: number, ranged: boolean): IncomingMessage[] {
  const groups = new Map<string, { m: IncomingMessage; sums: Map<string, [number, number]> }>()
  for (const m of rows) {
    const start = Math.floor(m.time / stepMs) * stepMs
    const k = `${m.node}\0${m.sensor}\0${start}`
    let g = groups.get(k)
    if (g === undefined) {
      g = { m: { ...m, time: start, seq: null }, sums: new Map() }
      groups.set(k, g)
    }
    if (!m.bound) g.m.bound = false
    if (m.receivedAt >= g.m.receivedAt) Object.assign(g.m, { receivedAt: m.receivedAt, auth: m.auth, model: m.model })
    for (const [key, v] of Object.entries(m.values)) {
      const s = g.sums.get(key) ?? [0, 0]
      s[0] += v
      s[1]++
      g.sums.set(key, s)
    }
  }
  const out = [...groups.values()].map(({ m, sums }) => ({
    ...m,
    values: Object.fromEntries([...sums].map(([k, [s, n]]) => [k, s / n])),
  }))
  const sensorKey = (x: string | null): string => (x === null ? '' : `~${x}`)
  return out.sort(
    (a, b) =>
      (ranged ? a.time - b.time : b.time - a.time) ||
      a.node.localeCompare(b.node) ||
      (sensorKey(a.sensor) < sensorKey(b.sensor) ? -1 : sensorKey(a.sensor) > sensorKey(b.sensor) ? 1 : 0),
  )
}

function toRow(m: IncomingMessage): ReadingRow {
  return {
    node: m.node,
    seq: m.seq,
    time: iso(m.time),
    receivedAt: iso(m.receivedAt),
    auth: m.auth,
    bound: m.bound,
    sensor: m.sensor,
    model: m.model,
    values: m.values,
  }
}

const iso = (t: number): string => new Date(t).toISOString()
