/** In-memory bookkeeping of the disk outbox: its segments, where each pending entry lives, appends waiting to be written. */
import type { FileHandle } from 'node:fs/promises'
import type { OutboxEntry } from './types.js'

export interface Segment {
  firstId: number
  path: string
  bytes: number
  live: number
  lastId: number
  reader: FileHandle | undefined
  /** Set at recovery on the last segment when it ends in a torn record: cut here before appending. */
  truncateTo: number | undefined
  /** Dropped (outbox full) or emptied and removed. */
  deleted: boolean
}

export interface Slot {
  /** Where the record is on disk; the outbox's memory placeholder while it is being written or held (disk full). */
  seg: Segment
  offset: number
  length: number
  /** The entry in memory (being written, held, or kept after its write within the cache bound): taken without a read. */
  entry?: OutboxEntry | undefined
  /** Counted in the outbox's cache bound (written to disk and kept in memory). */
  cached?: boolean
}

export interface Waiting {
  id: number
  record: Buffer
  resolve: (id: number) => void
  reject: (err: unknown) => void
  /** Held in memory after a full-disk write (counted in the held bound). */
  held?: boolean
}

export const segName = (firstId: number): string => `seg-${String(firstId).padStart(16, '0')}.log`
