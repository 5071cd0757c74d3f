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
}

export interface Waiting {
  id: number
  record: Buffer
  resolve: (id: number) => void
  reject: (err: unknown) => void
}

export const segName = (firstId: number): string => `seg-${String(firstId).padStart(16, '0')}.log`
