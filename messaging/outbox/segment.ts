/** In-memory bookkeeping of the disk outbox: its segments, where each pending entry lives, appends waiting to be written. */
import type { FileHandle } from 'node:fs/promises'

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
  seg: Segment
  offset: number
  length: number
  /** The record itself while it is held in memory (the disk was full); `seg` is then the outbox's memory placeholder. */
  mem?: Buffer
}

export interface Waiting {
  id: number
  record: Buffer
  resolve: (id: number) => void
  reject: (err: unknown) => void
  /** Held in memory after a full-disk write; already in the pending index. */
  held?: boolean
}

export const segName = (firstId: number): string => `seg-${String(firstId).padStart(16, '0')}.log`
