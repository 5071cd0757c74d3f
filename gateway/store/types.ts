/** The gateway's store: verified readings kept exactly once, behind one interface (SQLite embedded, PostgreSQL at scale). */

/** How the sender's key was authenticated (src/message/open.ts SenderAuth). */
export type StoredAuth = 'dnssec' | 'pkix-cd' | 'offline'

/** One verified message, as the gateway hands it to the store. */
export interface IncomingMessage {
  /** The sender's identity name (authenticated). */
  node: string
  /**
   * The per-sender sequence number of a claims-bound message; null for an unbound (legacy) message, which is
   * deduplicated by `digest` instead.
   */
  seq: number | null
  /** SHA-256 of the sealed message bytes, hex: the replay key of unbound messages (and kept for every message). */
  digest: string
  /** Issue time in ms since the epoch (`iat` * 1000; for an unbound message, its receive time). */
  time: number
  /** When the gateway received it, ms since the epoch. */
  receivedAt: number
  auth: StoredAuth
  /** 'compact' | 'valimail' | 'workshop' ... (src/jose/profiles.ts ProfileName). */
  profile: string
  /** True when the message carried claims binding it to audience, time and sequence. */
  bound: boolean
  /** A reading: sensor id, model and its numeric values; a status message: `status` set, the rest null/empty. */
  sensor: string | null
  model: string | null
  values: Record<string, number>
  /** The node's status object (health, outbox depth, version, ...) when the message is a status message. */
  status?: Record<string, unknown>
}

/** What happened to each message of a committed batch, in order. */
export type CommitOutcome = 'stored' | 'duplicate'

/** One stored reading as the API returns it (docs/gateway.md, `GET /api/readings`: `{node, seq, time, receivedAt, auth, bound, sensor, model, values}`). */
export interface ReadingRow {
  node: string
  seq: number | null
  /** ISO 8601 */
  time: string
  /** ISO 8601 */
  receivedAt: string
  auth: StoredAuth
  bound: boolean
  sensor: string | null
  model: string | null
  values: Record<string, number>
}

export interface ReadingQuery {
  node?: string
  /** ms since the epoch, inclusive */
  from?: number
  /** ms since the epoch, exclusive */
  to?: number
  /** at most this many rows (newest first when no range is given; ascending time otherwise) */
  limit?: number
  /** average per step of this many seconds (values averaged per key, time = step start) */
  stepSeconds?: number
}

export interface NodeSummary {
  node: string
  /** ISO 8601 of the newest message received */
  lastSeen: string
  auth: StoredAuth
  bound: boolean
  readings: number
  /** newest values per sensor id */
  latest: Record<string, { model: string | null; time: string; values: Record<string, number> }>
  /** newest status object, if the node sent one */
  status: Record<string, unknown> | null
  statusTime: string | null
}

export interface ReadingStore {
  /** Opens the store, running pending schema migrations. */
  open(): Promise<void>
  /**
   * Stores a batch in one transaction and returns each message's outcome. Resolves only after the transaction
   * committed durably: the caller acknowledges the batch to the broker after this. A message already stored
   * (same node + seq, or same digest for an unbound one) is a 'duplicate' and is not stored again.
   */
  commit(batch: readonly IncomingMessage[]): Promise<CommitOutcome[]>
  readings(q: ReadingQuery): Promise<ReadingRow[]>
  nodes(): Promise<NodeSummary[]>
  /** Counts for /metrics and tests. */
  count(): Promise<number>
  close(): Promise<void>
}
