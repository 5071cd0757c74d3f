/** What one committed batch changes beside its rows: per node first/last seen and reading count, per sensor the latest reading. */
import type { IncomingMessage, StoredAuth } from './types.js'

export interface NodeDelta {
  first: number
  last: number
  auth: StoredAuth
  bound: boolean
  readings: number
}

/**
 * Both stores fold a batch's newly stored messages into these two maps and upsert them once per batch, not once
 * per message. Status messages move a node's last-seen but are not readings and never the latest values.
 */
export class BatchSummary {
  readonly nodes = new Map<string, NodeDelta>()
  /** Keyed by node and sensor (`node\0sensor`): the reading with the newest issued time. */
  readonly latest = new Map<string, IncomingMessage>()

  add(m: IncomingMessage): void {
    const isReading = m.status === undefined
    const d = this.nodes.get(m.node)
    if (d === undefined)
      this.nodes.set(m.node, { first: m.receivedAt, last: m.receivedAt, auth: m.auth, bound: m.bound, readings: isReading ? 1 : 0 })
    else {
      if (m.receivedAt >= d.last) Object.assign(d, { last: m.receivedAt, auth: m.auth, bound: m.bound })
      if (m.receivedAt < d.first) d.first = m.receivedAt
      if (isReading) d.readings++
    }
    if (isReading) {
      const key = `${m.node}\0${m.sensor ?? ''}`
      const prev = this.latest.get(key)
      if (prev === undefined || m.time >= prev.time) this.latest.set(key, m)
    }
  }
}
