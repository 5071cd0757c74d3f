/** The outbox contract the MQTT sender drains (messaging/sender.ts); the disk and memory outboxes implement it. */
export interface OutboxEntry {
  id: number
  topic: string
  payload: Buffer
}

export interface OutboxStats {
  pending: number
  diskBytes: number
  appended: number
  acked: number
  dropped: number
  corrupt: number
  syncs: number
  /** Entries held in memory because the disk is full (sent from there; written once there is room). */
  held?: number
  /** Appends refused because the disk and the in-memory bound were both full (never acknowledged). */
  refused?: number
  /** Segments found empty at open: emptied outside the outbox, their entries lost (logged). */
  missing?: number
  /** True while writes fail for lack of space. */
  diskFull?: boolean
}

/** What the MQTT drainer needs from any outbox (test/messaging/outbox-suite.ts is the suite every one passes). */
export interface Outbox {
  /** Stores one entry (a string as its UTF-8 bytes); resolves with its id once durable per the sync policy. */
  append(topic: string, payload: Uint8Array | string): Promise<number>
  /** Up to `max` pending entries not handed out since the last rewind(), oldest first. */
  take(max: number): Promise<OutboxEntry[]>
  /**
   * take() without a promise, for entries held in memory: up to `max`, stopping before the first that must be read
   * from disk; undefined when that is the very next one (nothing handed out: call take()).
   */
  takeFromMemory?(max: number): OutboxEntry[] | undefined
  /** Marks an entry done (PUBACK); unknown ids are ignored (already acked, or dropped while in flight). */
  ack(id: number): void
  /** Makes every pending entry takeable again (after a reconnect: unacknowledged ones are sent again). */
  rewind(): void
  /** Calls `fn` whenever entries become takeable. */
  onAvailable(fn: () => void): void
  readonly pending: number
  readonly nextId: number
  stats(): OutboxStats
  close(): Promise<void>
}
