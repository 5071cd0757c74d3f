/** The outbox's ack log (acks.log): which ids are done, written lazily and compacted by atomic rewrite. */
import { type FileHandle, open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomicAsync } from '../../src/fsutil-async.js'
import { frame, scan } from './frame.js'
import { decodeMark, encodeMark, frameMark, TYPE_ACK, TYPE_FLOOR } from './records.js'

/*
 * Acks are not fsynced on their own: losing one to a power cut only means that entry is published again,
 * and QoS 1 is at-least-once anyway (the receiver's replay guard drops the duplicate). They are written
 * (to the page cache, which survives kill -9) every flush interval, and fsynced with the next compaction.
 */
export const ACK_LOG = 'acks.log'
/** Rewrite the log once it holds this many bytes (about 7,000 records). */
const COMPACT_BYTES = 64 * 1024

export interface AckState {
  /** Every id below this is done. */
  floor: number
  /** The highest id ever recorded (floor - 1 or an ack): new ids must start above it. */
  maxId: number
  /** Ids at or above the floor that are done (acknowledged out of order). */
  acked: Set<number>
  corrupt: number
}

export async function readAckLog(dir: string): Promise<AckState> {
  let buf: Buffer
  try {
    buf = await readFile(join(dir, ACK_LOG))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { floor: 0, maxId: -1, acked: new Set(), corrupt: 0 }
    throw err
  }
  const { records, corrupt } = scan(buf)
  let floor = 0
  const ids: number[] = []
  let bad = corrupt
  for (const r of records) {
    const m = decodeMark(r.body)
    if (m === undefined) bad++
    else if (m.type === TYPE_FLOOR) floor = Math.max(floor, m.id)
    else ids.push(m.id)
  }
  let maxId = floor - 1
  for (const id of ids) if (id > maxId) maxId = id
  return { floor, maxId, acked: new Set(ids.filter((id) => id >= floor)), corrupt: bad }
}

export class AckLog {
  readonly #dir: string
  #fh: FileHandle | undefined
  #buffered: Buffer[] = []
  #bytes = 0
  #busy: Promise<void> = Promise.resolve()

  constructor(dir: string, existingBytes: number) {
    this.#dir = dir
    this.#bytes = existingBytes
  }

  /** Queues an ack record (written at the next flush). */
  ack(id: number): void {
    this.#buffered.push(frameMark(TYPE_ACK, id))
  }

  /**
   * Writes queued records. When the log is large, rewrites it instead as `floor` plus `doneAbove` (the ids at
   * or above the floor that are done), atomically and fsynced.
   */
  flush(floor: number, doneAbove: () => Iterable<number>): Promise<void> {
    this.#busy = this.#busy
      .catch(() => {})
      .then(async () => {
        if (this.#bytes >= COMPACT_BYTES) {
          this.#buffered = []
          await this.#rewrite(floor, doneAbove())
          return
        }
        if (this.#buffered.length === 0) return
        const chunk = Buffer.concat(this.#buffered)
        this.#buffered = []
        if (this.#fh === undefined) {
          this.#fh = await open(join(this.#dir, ACK_LOG), 'a', 0o600)
          await this.#fh.chmod(0o600) // also a log created 0644 by an earlier version
        }
        await this.#fh.write(chunk)
        this.#bytes += chunk.length
      })
    return this.#busy
  }

  /** Records a new floor at once, fsynced (after dropping a segment: the drop must not be undone by a crash). */
  setFloor(floor: number, doneAbove: () => Iterable<number>): Promise<void> {
    this.#busy = this.#busy.catch(() => {}).then(() => this.#rewrite(floor, doneAbove()))
    return this.#busy
  }

  async #rewrite(floor: number, done: Iterable<number>): Promise<void> {
    const parts = [frame(encodeMark(TYPE_FLOOR, floor))]
    for (const id of done) if (id >= floor) parts.push(frame(encodeMark(TYPE_ACK, id)))
    const data = Buffer.concat(parts)
    await this.#fh?.close()
    this.#fh = undefined
    await writeFileAtomicAsync(join(this.#dir, ACK_LOG), data, 0o600)
    this.#bytes = data.length
  }

  async close(): Promise<void> {
    await this.#busy
    await this.#fh?.close()
    this.#fh = undefined
  }
}
