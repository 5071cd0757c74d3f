/** The durable, bounded outbox on disk: append-only CRC-framed segments, entries removed on PUBACK, drop-oldest when full. */
import { readdirSync, rmSync, statSync } from 'node:fs'
import { type FileHandle, open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DaneelError } from '../src/errors.js'
import { ensureDir } from '../src/fsutil.js'
import { fsyncDirAsync } from '../src/fsutil-async.js'
import { type Logger, silentLogger } from '../src/log.js'
import { ACK_LOG, AckLog, readAckLog } from './outbox/ack-log.js'
import { HEADER_BYTES, scan } from './outbox/frame.js'
import { decodeData, frameData } from './outbox/records.js'
import { type Segment, type Slot, segName, type Waiting } from './outbox/segment.js'
import type { Outbox, OutboxEntry, OutboxStats } from './outbox/types.js'
import { isSpaceError, SpaceFaults } from './space-faults.js'

export type { Outbox, OutboxEntry, OutboxStats } from './outbox/types.js'

/*
 * Publication from memory: an appended entry is takeable at once, before its write (the sender publishes it while
 * the group commit runs), and it stays in memory while pending within `cacheMaxBytes`; only entries past that
 * bound, or recovered at open, are read back from disk. Publishing before the fdatasync costs no durability: the
 * caller is told "stored" only when append() resolves (below), and an entry the broker acknowledges before its
 * write is not written at all (it is done). A crash before append() resolved may leave an entry the broker
 * already has and the caller was never told was stored: at-least-once, as QoS 1 is.
 * Durability (the fsync policy):
 * - sync 'always' (default): appends are group-committed: every append waiting while a write is in progress
 *   goes into the next single write + fdatasync, and append() resolves only after that fdatasync. A reading
 *   whose append() resolved survives kill -9 and power loss: zero loss window. Cost measured in bench/e2e.
 * - sync 'interval': append() resolves after write(2) (survives kill -9, as the page cache does); fdatasync
 *   runs every `syncIntervalMs`, so a power cut loses at most that many milliseconds of readings.
 * Bound: the segment files together stay within `maxBytes`. When a new record would not fit, the OLDEST
 * segment is deleted with every entry still pending in it: counted in `dropped` and logged (warn).
 * Segments are maxBytes/8 each, so a drop frees about an eighth of the outbox at a time.
 * Reclaim: once every record in the active segment is acknowledged and it holds 64 KiB (or an eighth of a segment)
 * or more, the next append starts a new segment and the old file is deleted, so acknowledged records never wait
 * for a full segment to be freed (on a nearly full card that was the difference between keeping and losing them).
 * Full disk (ENOSPC, EDQUOT): a group commit that fails for lack of space is cut back off the file and its entries
 * are HELD in memory (up to `memoryMaxBytes`): they are takeable (sent from memory and acknowledged normally) and
 * their append() stays pending until they are written, which is retried every `retryMs` (reclaiming acknowledged
 * segments first), or delivered. Past the memory bound an append is refused (ERR_OUTBOX_FULL, never acknowledged).
 * The streak is logged once (space-faults.ts), and `stats().diskFull` says so meanwhile.
 */
export interface DiskOutboxOptions {
  maxBytes?: number
  sync?: 'always' | 'interval'
  syncIntervalMs?: number
  /** How often queued acks are written to acks.log. */
  ackFlushMs?: number
  /** Bound on entries held in memory while the disk is full (default: maxBytes / 4, at most 4 MiB). */
  memoryMaxBytes?: number
  /** How often held entries are written again while the disk is full. */
  retryMs?: number
  /** Pending entries kept in memory after their write, so the sender never reads them back (default: maxBytes / 8, at most 1 MiB). */
  cacheMaxBytes?: number
  logger?: Logger
}

/** Opens (or creates) the outbox in `dir`, recovering from torn writes: corrupt records are skipped and counted. */
export async function openOutbox(dir: string, opts: DiskOutboxOptions = {}): Promise<DiskOutbox> {
  ensureDir(dir, 0o700)
  const acks = await readAckLog(dir)
  const names = readdirSync(dir)
    .filter((n) => /^seg-\d{16}\.log$/.test(n))
    .sort()
  const box = new DiskOutbox(dir, opts, acks.floor, acks.corrupt, statSize(join(dir, ACK_LOG)))
  box.noteAcked(acks.maxId)
  for (const [i, name] of names.entries()) {
    const path = join(dir, name)
    const buf = await readFile(path)
    const { records, corrupt, goodEnd } = scan(buf)
    const seg: Segment = {
      firstId: Number(name.slice(4, 20)),
      path,
      bytes: buf.length,
      live: 0,
      lastId: -1,
      reader: undefined,
      truncateTo: undefined,
      deleted: false,
    }
    box.recoverSegment(seg, records, corrupt, acks.acked, i === names.length - 1 ? goodEnd : undefined)
  }
  await box.startActive()
  return box
}

function statSize(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

/** takeFromMemory's answer when nothing is takeable (shared, never written to). */
const NOTHING: OutboxEntry[] = []

export class DiskOutbox implements Outbox {
  readonly #dir: string
  readonly #maxBytes: number
  readonly #segmentBytes: number
  readonly #syncAlways: boolean
  readonly #log: Logger
  readonly #ackLog: AckLog
  readonly #timers: NodeJS.Timeout[] = []
  #segments: Segment[] = []
  #writer: FileHandle | undefined
  #pending = new Map<number, Slot>()
  /**
   * Ids not handed out since the last rewind, oldest first, from `#nextTake` on (acknowledged or dropped ones are
   * skipped as they come): take() never walks the entries already in flight.
   */
  #takeable: number[] = []
  #nextTake = 0
  #queue: Waiting[] = []
  #flushing = false
  #dirty = false
  #closed = false
  #listeners: (() => void)[] = []
  #nextId: number
  /** Ids below this are indexed (pending) or done; ids from here to nextId are being written. */
  #committedNext = 1
  readonly #recoveredFloor: number
  readonly #memoryMaxBytes: number
  readonly #reclaimBytes: number
  readonly #memSeg: Segment = {
    firstId: -1,
    path: '(memory)',
    bytes: 0,
    live: 0,
    lastId: -1,
    reader: undefined,
    truncateTo: undefined,
    deleted: false,
  }
  /** Appends held in memory (the disk was full), oldest first; each is also in #pending. */
  #held: Waiting[] = []
  #heldBytes = 0
  readonly #cacheMaxBytes: number
  #cacheBytes = 0
  readonly #diskFaults: SpaceFaults
  readonly #ackFaults: SpaceFaults
  #lastWriteError = ''
  #lastAckError = ''
  #s: OutboxStats = {
    pending: 0,
    diskBytes: 0,
    appended: 0,
    acked: 0,
    dropped: 0,
    corrupt: 0,
    syncs: 0,
    held: 0,
    refused: 0,
    missing: 0,
    diskFull: false,
  }

  constructor(dir: string, opts: DiskOutboxOptions, floor: number, corrupt: number, ackLogBytes: number) {
    this.#dir = dir
    this.#maxBytes = opts.maxBytes ?? 16 * 1024 * 1024
    this.#segmentBytes = Math.max(4096, Math.floor(this.#maxBytes / 8))
    this.#memoryMaxBytes = opts.memoryMaxBytes ?? Math.min(4 * 1024 * 1024, Math.floor(this.#maxBytes / 4))
    this.#cacheMaxBytes = opts.cacheMaxBytes ?? Math.min(1024 * 1024, Math.floor(this.#maxBytes / 8))
    this.#reclaimBytes = Math.min(64 * 1024, Math.floor(this.#segmentBytes / 8))
    this.#syncAlways = (opts.sync ?? 'always') === 'always'
    this.#log = opts.logger ?? silentLogger
    this.#diskFaults = new SpaceFaults(this.#log, 'outbox')
    this.#ackFaults = new SpaceFaults(this.#log, 'outbox ack log')
    this.#ackLog = new AckLog(dir, ackLogBytes)
    this.#nextId = Math.max(1, floor)
    this.#recoveredFloor = floor
    this.#s.corrupt = corrupt
    const ackMs = opts.ackFlushMs ?? 100
    this.#timers.push(setInterval(() => void this.#flushAcks(), ackMs).unref())
    this.#timers.push(setInterval(() => this.#retryHeld(), opts.retryMs ?? 1000).unref())
    if (!this.#syncAlways) {
      this.#timers.push(setInterval(() => void this.#syncNow(), opts.syncIntervalMs ?? 1000).unref())
    }
  }

  get pending(): number {
    return this.#pending.size
  }

  get nextId(): number {
    return this.#nextId
  }

  stats(): OutboxStats {
    return {
      ...this.#s,
      pending: this.#pending.size,
      diskBytes: this.#diskBytes(),
      held: this.#held.length,
      diskFull: this.#diskFaults.failing,
    }
  }

  /** Used by openOutbox: new ids start above every id the ack log ever recorded (an emptied last segment must not bring them back). */
  noteAcked(maxId: number): void {
    this.#nextId = Math.max(this.#nextId, maxId + 1)
  }

  /** Used by openOutbox: indexes one segment's records; `tailEnd` is set for the last (active) segment. */
  recoverSegment(seg: Segment, records: { offset: number; body: Buffer }[], corrupt: number, acked: Set<number>, tailEnd?: number): void {
    this.#s.corrupt += corrupt
    if (corrupt > 0) this.#log.warn('outbox: corrupt records skipped', { segment: seg.path, corrupt })
    const floor = this.#recoveredFloor
    for (const r of records) {
      const rec = decodeData(r.body)
      if (rec === undefined) {
        this.#s.corrupt++
        continue
      }
      seg.lastId = Math.max(seg.lastId, rec.id)
      this.#nextId = Math.max(this.#nextId, rec.id + 1)
      if (rec.id < floor || acked.has(rec.id) || this.#pending.has(rec.id)) continue
      this.#pending.set(rec.id, { seg, offset: r.offset, length: HEADER_BYTES + r.body.length })
      seg.live++
    }
    this.#nextId = Math.max(this.#nextId, seg.firstId)
    if (tailEnd !== undefined && tailEnd < seg.bytes) seg.truncateTo = tailEnd
    this.#segments.push(seg)
  }

  /** Cuts a torn tail off the last segment, deletes dead segments, opens the active segment for appends. */
  async startActive(): Promise<void> {
    const last = this.#segments.at(-1)
    if (last?.truncateTo !== undefined) {
      const end = last.truncateTo
      const fh = await open(last.path, 'r+')
      await fh.truncate(end)
      await fh.datasync()
      await fh.close()
      last.bytes = end
      last.truncateTo = undefined
    }
    this.#reportEmptied()
    for (const seg of this.#segments.slice(0, -1)) if (seg.live === 0) this.#deleteSegment(seg)
    this.#pending = new Map([...this.#pending].sort((a, b) => a[0] - b[0]))
    this.#takeable = [...this.#pending.keys()]
    this.#committedNext = this.#nextId
    if (last === undefined || last.live === 0) await this.#rotate(this.#nextId)
    else this.#writer = await open(last.path, 'a')
  }

  append(topic: string, payload: Uint8Array | string): Promise<number> {
    if (this.#closed) return Promise.reject(new DaneelError('ERR_IO', 'outbox is closed'))
    const id = this.#nextId
    const record = frameData(id, topic, payload)
    if (record.length > this.#segmentBytes) {
      return Promise.reject(
        new DaneelError('ERR_OUTBOX_FULL', `entry of ${record.length} bytes exceeds the segment size ${this.#segmentBytes}`),
      )
    }
    this.#nextId++
    // takeable at once (the payload is a view of the record: no second copy): published while the write runs
    const payloadLen = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length
    const entry: OutboxEntry = { id, topic, payload: record.subarray(record.length - payloadLen) }
    this.#pending.set(id, { seg: this.#memSeg, offset: 0, length: record.length, entry })
    this.#takeable.push(id)
    const stored = new Promise<number>((resolve, reject) => {
      this.#queue.push({ id, record, resolve, reject })
    })
    if (!this.#flushing) void this.#flush()
    this.#notify()
    return stored
  }

  async take(max: number): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = []
    let picked: [number, Slot][] | undefined
    for (;;) {
      if (out.length + (picked === undefined ? 0 : picked.length) >= max) break
      const id = this.#nextTakeable()
      if (id === undefined) break
      const slot = this.#pending.get(id) as Slot
      this.#nextTake++
      if (slot.entry !== undefined && picked === undefined) out.push(slot.entry)
      else if (picked === undefined) picked = [[id, slot]]
      else picked.push([id, slot])
    }
    if (picked === undefined) return out // every one from memory: no read
    for (const [id, slot] of picked) {
      if (slot.entry !== undefined) {
        out.push(slot.entry)
        continue
      }
      try {
        slot.seg.reader ??= await open(slot.seg.path, 'r')
        const buf = Buffer.allocUnsafe(slot.length)
        await slot.seg.reader.read(buf, 0, slot.length, slot.offset)
        const rec = decodeData(buf.subarray(HEADER_BYTES))
        if (rec !== undefined && rec.id === id) out.push(rec)
      } catch {
        // the segment was dropped (outbox full) while we read: the entry is gone and was counted as dropped
      }
    }
    return out
  }

  takeFromMemory(max: number): OutboxEntry[] | undefined {
    let out: OutboxEntry[] | undefined
    while (out === undefined || out.length < max) {
      const id = this.#nextTakeable()
      if (id === undefined) break
      const slot = this.#pending.get(id) as Slot
      if (slot.entry === undefined) return out // to be read from disk: take() does that
      this.#nextTake++
      if (out === undefined) out = [slot.entry]
      else out.push(slot.entry)
    }
    return out ?? NOTHING
  }

  /** The oldest pending id not handed out yet (not consumed: the caller advances `#nextTake`). */
  #nextTakeable(): number | undefined {
    const ids = this.#takeable
    while (this.#nextTake < ids.length && !this.#pending.has(ids[this.#nextTake] as number)) this.#nextTake++
    if (this.#nextTake > 1024 && this.#nextTake * 2 > ids.length) {
      this.#takeable = ids.slice(this.#nextTake)
      this.#nextTake = 0
    }
    return this.#takeable[this.#nextTake]
  }

  ack(id: number): void {
    const slot = this.#pending.get(id)
    if (slot === undefined) return
    this.#forget(id, slot)
    this.#s.acked++
    this.#ackLog.ack(id)
    if (slot.seg === this.#memSeg) return // not on disk (being written, or held): its write or retry settles it
    slot.seg.live--
    if (slot.seg.live === 0 && slot.seg !== this.#segments.at(-1)) this.#deleteSegment(slot.seg)
  }

  rewind(): void {
    this.#takeable = [...this.#pending.keys()]
    this.#nextTake = 0
    if (this.#pending.size > 0) this.#notify()
  }

  onAvailable(fn: () => void): void {
    this.#listeners.push(fn)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const t of this.#timers) clearInterval(t)
    while (this.#flushing) await new Promise((r) => setTimeout(r, 1))
    this.#retryHeld(true)
    while (this.#flushing) await new Promise((r) => setTimeout(r, 1))
    const lost = this.#held.filter((w) => this.#pending.has(w.id))
    if (lost.length > 0) {
      this.#log.error('outbox closed with entries held in memory (disk full): they were never stored', { lost: lost.length })
      const e = new DaneelError('ERR_OUTBOX_FULL', 'the outbox closed while the disk was full')
      for (const w of this.#held) this.#pending.has(w.id) ? w.reject(e) : w.resolve(w.id)
      this.#held = []
    }
    await this.#syncNow()
    await this.#flushAcks()
    await this.#ackLog.close()
    await this.#writer?.close()
    for (const seg of this.#segments) await seg.reader?.close()
  }

  #notify(): void {
    for (const fn of this.#listeners) fn()
  }

  /** Removes a pending entry from the index (acknowledged, dropped, or refused) and frees its memory. */
  #forget(id: number, slot: Slot): void {
    this.#pending.delete(id)
    if (slot.cached === true) this.#cacheBytes -= slot.length
    slot.cached = false
    slot.entry = undefined
  }

  #diskBytes(): number {
    let n = 0
    for (const s of this.#segments) n += s.bytes
    return n
  }

  #floor(): number {
    for (const id of this.#pending.keys()) return id
    return this.#committedNext
  }

  /** Ids at or above the floor that are done: what a compacted ack log must still list. */
  *#doneAbove(): Iterable<number> {
    const floor = this.#floor()
    for (let id = floor; id < this.#committedNext; id++) if (!this.#pending.has(id)) yield id
  }

  #flushAcks(): Promise<void> {
    return this.#ackLog
      .flush(this.#floor(), () => this.#doneAbove())
      .then(
        () => this.#ackFaults.ok(),
        (err: unknown) => {
          if (isSpaceError(err)) return this.#ackFaults.fault(err) // acks are kept and written once there is room
          const why = String(err)
          if (why !== this.#lastAckError) this.#log.error('outbox: ack log write failed', { err: why })
          this.#lastAckError = why
        },
      )
  }

  /** Moves held entries back in front of the write queue (every retryMs while the disk is full, and at close). */
  #retryHeld(force = false): void {
    if (this.#held.length === 0 || (this.#flushing && !force)) return
    const again: Waiting[] = []
    for (const w of this.#held) {
      if (this.#pending.has(w.id)) again.push(w)
      else {
        this.#s.appended++
        w.resolve(w.id) // delivered (acknowledged by the broker) from memory
      }
    }
    this.#held = []
    this.#heldBytes = 0
    this.#queue = [...again, ...this.#queue]
    if (!this.#flushing && this.#queue.length > 0) void this.#flush()
  }

  /** Keeps a batch that failed for lack of space in memory, takeable, up to the bound. */
  #hold(batch: Waiting[], err: unknown): void {
    let refused = 0
    for (const w of batch) {
      const slot = this.#pending.get(w.id)
      if (slot === undefined) {
        this.#s.appended++
        w.resolve(w.id) // acknowledged by the broker before it could be written: delivered
        continue
      }
      if (w.held !== true && this.#heldBytes + w.record.length > this.#memoryMaxBytes) {
        refused++
        this.#s.refused = (this.#s.refused ?? 0) + 1
        this.#forget(w.id, slot)
        w.reject(new DaneelError('ERR_OUTBOX_FULL', 'the disk is full and so is the in-memory outbox: entry not stored'))
        continue
      }
      this.#held.push(w)
      this.#heldBytes += w.record.length
      w.held = true // its slot stays on the memory placeholder, with its entry: sent from memory
    }
    this.#diskFaults.fault(err, { held: this.#held.length })
    if (refused > 0 && this.#s.refused === refused)
      this.#log.error('outbox: memory bound reached while the disk is full: refusing new entries')
  }

  /**
   * At open: a segment that is not the last holds at least one record (a new segment is only started to take one),
   * so one with none was emptied or cut outside the outbox (a crash before the data reached the card, a tool):
   * whatever it held cannot be sent, which is said once instead of passing in silence.
   */
  #reportEmptied(): void {
    const emptied = this.#segments.slice(0, -1).filter((s) => s.lastId === -1)
    if (emptied.length === 0) return
    this.#s.missing = emptied.length
    this.#log.error('outbox: segments found empty at open (emptied outside the outbox); their entries are lost', {
      segments: emptied.map((s) => s.path),
    })
  }

  async #syncNow(): Promise<void> {
    if (!this.#dirty || this.#writer === undefined) return
    this.#dirty = false
    await this.#writer.datasync()
    this.#s.syncs++
  }

  /** Group commit: everything queued goes out in one write (per segment) and one fdatasync. */
  async #flush(): Promise<void> {
    this.#flushing = true
    while (this.#queue.length > 0) {
      const batch = this.#queue
      this.#queue = []
      const placed: [Waiting, Slot][] = []
      const before = new Map<Segment, number>() // each touched segment's size before this batch
      try {
        const chunks: Buffer[] = []
        for (const w of batch) {
          if (!this.#pending.has(w.id)) {
            this.#s.appended++
            w.resolve(w.id) // acknowledged by the broker before its write: done, nothing to store
            continue
          }
          const last = this.#segments.at(-1)
          const active =
            last !== undefined && this.#fits(last, w.record.length, chunks.length)
              ? last
              : await this.#makeRoom(w.id, w.record.length, chunks)
          if (!before.has(active)) before.set(active, active.bytes)
          placed.push([w, { seg: active, offset: active.bytes, length: w.record.length }])
          active.bytes += w.record.length
          active.lastId = w.id
          active.live++ // counted now, so a rotation later in this batch cannot delete this segment
          chunks.push(w.record)
        }
        await this.#writeChunks(chunks)
        if (this.#syncAlways) await this.#syncNow()
        for (const [w, slot] of placed) {
          const cur = this.#pending.get(w.id)
          if (slot.seg.deleted) {
            this.#s.dropped++ // dropped by the full policy within its own batch
            if (cur !== undefined) this.#forget(w.id, cur)
          } else if (cur === undefined)
            slot.seg.live-- // acknowledged while being written: done
          else {
            cur.seg = slot.seg
            cur.offset = slot.offset
            if (this.#cacheBytes + cur.length <= this.#cacheMaxBytes) {
              cur.cached = true // kept in memory until its PUBACK: never read back
              this.#cacheBytes += cur.length
            } else cur.entry = undefined // past the bound: read back from disk when its turn comes
          }
          w.held = false
          this.#s.appended++
          w.resolve(w.id)
        }
        this.#committedNext = Math.max(this.#committedNext, (batch.at(-1) as Waiting).id + 1)
        this.#diskFaults.ok({ held: this.#held.length })
        this.#notify()
      } catch (err) {
        for (const [, slot] of placed) slot.seg.live--
        for (const [seg, bytes] of before) seg.bytes = bytes
        this.#committedNext = Math.max(this.#committedNext, (batch.at(-1) as Waiting).id + 1)
        const active = this.#segments.at(-1)
        const cut = active === undefined ? undefined : before.get(active)
        // Cut back whatever part of this batch reached the file (ftruncate needs no free space); if that fails,
        // start a new segment: a torn record stays behind its CRC.
        const clean =
          cut !== undefined && this.#writer !== undefined
            ? this.#writer.truncate(cut)
            : this.#writer === undefined
              ? this.#rotate(this.#nextId)
              : Promise.resolve()
        await clean.catch(() => this.#rotate(this.#nextId).catch(() => {}))
        if (isSpaceError(err)) {
          this.#hold(batch, err)
          if (this.#held.length > 0) this.#notify()
          continue
        }
        const e =
          err instanceof DaneelError ? err : new DaneelError('ERR_IO', `outbox write failed: ${(err as Error).message}`, { cause: err })
        for (const w of batch) {
          const slot = this.#pending.get(w.id)
          if (w.held === true && slot !== undefined) {
            this.#held.push(w) // already held: stays held (it may still be sent from memory)
            this.#heldBytes += w.record.length
            continue
          }
          if (slot === undefined) {
            this.#s.appended++
            w.resolve(w.id) // acknowledged by the broker while its write failed: delivered
            continue
          }
          this.#forget(w.id, slot)
          this.#ackLog.ack(w.id) // failed ids are gaps, never pending, and not reported missing at the next open
          w.reject(e)
        }
        const why = String(err)
        if (why !== this.#lastWriteError) this.#log.error('outbox: write failed', { err: why })
        this.#lastWriteError = why
      }
    }
    this.#flushing = false
  }

  async #writeChunks(chunks: Buffer[]): Promise<void> {
    if (chunks.length === 0) return
    if (this.#writer === undefined) await this.#rotate(this.#nextId) // the last rotation failed (disk full)
    if (this.#writer === undefined) throw new DaneelError('ERR_IO', 'outbox has no segment open')
    let total = 0
    for (const c of chunks) total += c.length
    // one writev for the batch (no concatenated copy); a short write is finished from where it stopped
    let off = (await this.#writer.writev(chunks)).bytesWritten
    this.#dirty = true
    if (off < total) {
      const buf = Buffer.concat(chunks)
      while (off < total) off += (await this.#writer.write(buf, off, total - off)).bytesWritten
    }
  }

  /** The common case, decided without an await: the active segment takes `len` more bytes, nothing to rotate or drop. */
  #fits(active: Segment, len: number, batched: number): boolean {
    const reclaim = active.live === 0 && active.bytes > 0 && (active.bytes >= this.#reclaimBytes || this.#diskFaults.failing)
    if (active.bytes + len > this.#segmentBytes || (reclaim && batched === 0)) return false
    return this.#segments.length <= 1 || this.#diskBytes() + len <= this.#maxBytes
  }

  /** Ensures the active segment can take `len` more bytes: rotates, and drops the oldest segments when full. */
  async #makeRoom(id: number, len: number, chunks: Buffer[]): Promise<Segment> {
    let active = this.#segments.at(-1) as Segment
    const reclaim = active.live === 0 && active.bytes > 0 && (active.bytes >= this.#reclaimBytes || this.#diskFaults.failing)
    if (active.bytes + len > this.#segmentBytes || (reclaim && chunks.length === 0)) {
      await this.#writeChunks(chunks.splice(0))
      await this.#rotate(Math.max(id, active.firstId + 1)) // a held entry's id may be older than the active segment
      active = this.#segments.at(-1) as Segment
    }
    while (this.#diskBytes() + len > this.#maxBytes && this.#segments.length > 1) {
      const oldest = this.#segments[0] as Segment
      let lost = 0
      for (const [id, slot] of this.#pending) {
        if (slot.seg !== oldest) break
        this.#forget(id, slot)
        lost++
      }
      this.#s.dropped += lost
      this.#deleteSegment(oldest)
      await this.#ackLog.setFloor(this.#floor(), () => this.#doneAbove())
      this.#log.warn('outbox full: dropped the oldest segment', { dropped: lost, totalDropped: this.#s.dropped })
    }
    return active
  }

  /** Starts a new active segment named for the first id it will hold (so ids survive even an empty outbox). */
  async #rotate(firstId: number): Promise<void> {
    if (this.#writer !== undefined) {
      if (this.#dirty) await this.#syncNow()
      await this.#writer.close()
      this.#writer = undefined
    }
    const path = join(this.#dir, segName(firstId))
    const seg: Segment = { firstId, path, bytes: 0, live: 0, lastId: -1, reader: undefined, truncateTo: undefined, deleted: false }
    const prev = this.#segments.at(-1)
    if (prev?.path === path) this.#segments.pop() // an empty active segment re-opened under the same name
    this.#writer = await open(seg.path, 'a', 0o600)
    await fsyncDirAsync(this.#dir)
    this.#segments.push(seg)
    const old = this.#segments.slice(0, -1).filter((s) => s.live === 0)
    for (const s of old) this.#deleteSegment(s)
  }

  #deleteSegment(seg: Segment): void {
    seg.deleted = true
    this.#segments = this.#segments.filter((s) => s !== seg)
    void seg.reader?.close().catch(() => {})
    seg.reader = undefined
    rmSync(seg.path, { force: true })
  }
}
