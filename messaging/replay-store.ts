/** A durable replay guard: per-sender high-water mark + sliding window, journaled in DANEEL_STATE, surviving restarts. */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DaneelError } from '../src/errors.js'
import { ensureDir } from '../src/fsutil.js'
import { Lru } from '../src/lru.js'
import type { ReplayGuard, Verdict } from '../src/message/replay.js'
import { JOURNAL, OLD_JOURNAL, ReplayFiles, SNAPSHOT } from './replay-journal.js'

/*
 * Same rule as src/message/replay.ts (an RFC 4303 §3.4.3 window): a number above the sender's highest is
 * fresh; one within `window` below it is fresh once; older ones are refused. Memory: maxSenders x window/8
 * bytes (10,000 x 128 B = 1.3 MB by default).
 * Durability, without stopping the event loop for the disk:
 * - record() (the receiver's path) is group-committed: every record asked for while a write runs goes into the
 *   next single write(2), on libuv's pool. Its promise resolves once that write returned (the bytes are in the
 *   page cache: a kill -9 after it does not lose them), and only then is the number marked seen in memory; a
 *   failed write (ENOSPC) rejects with ERR_IO and leaves it unseen. The receiver acknowledges after it resolved.
 * - check() (an opener judging and recording at once) writes synchronously, as before.
 * - The journal is fdatasynced every `fsyncMs`, asynchronously (a power cut forgets at most that much), and
 *   folded into replay.json every `compactEvery` entries, off the loop too (replay-journal.ts).
 */
export interface ReplayStoreOptions {
  window?: number
  maxSenders?: number
  fsyncMs?: number
  compactEvery?: number
}

interface SenderWindow {
  high: number
  bits: Uint32Array
}

export interface DurableReplayGuard extends Required<ReplayGuard> {
  readonly senders: number
  /** Journals (sender, seq) with the next group write; resolves once written, then the number is seen. */
  record(sender: string, seq: number): Promise<void>
  /** Waits for the writes under way, folds the journal into the snapshot, closes. */
  close(): Promise<void>
}

export function openReplayStore(dir: string, opts: ReplayStoreOptions = {}): DurableReplayGuard {
  ensureDir(dir, 0o700)
  const window = Math.max(32, Math.ceil((opts.window ?? 1024) / 32) * 32)
  const words = window / 32
  const maxSenders = opts.maxSenders ?? 10_000
  const compactEvery = opts.compactEvery ?? 50_000
  const senders = new Lru<string, SenderWindow>(maxSenders)

  const bit = (w: SenderWindow, i: number): boolean => (((w.bits[i >>> 5] as number) >>> (i & 31)) & 1) === 1
  const set = (w: SenderWindow, i: number): void => {
    w.bits[i >>> 5] = ((w.bits[i >>> 5] as number) | (1 << (i & 31))) >>> 0
  }
  const shift = (w: SenderWindow, by: number): void => {
    if (by >= window) return void w.bits.fill(0)
    const ws = by >>> 5
    const bs = by & 31
    for (let k = words - 1; k >= 0; k--) {
      const src = k - ws
      let v = src >= 0 ? (w.bits[src] as number) << bs : 0
      if (bs !== 0 && src - 1 >= 0) v |= (w.bits[src - 1] as number) >>> (32 - bs)
      w.bits[k] = v >>> 0
    }
  }
  /** The window rule, in memory; true when fresh (and now recorded). */
  const apply = (sender: string, seq: number): boolean => {
    let w = senders.get(sender) // refreshes recency: the least recently seen sender is evicted first
    if (w === undefined) {
      w = { high: seq, bits: new Uint32Array(words) }
      set(w, 0)
      senders.set(sender, w)
      return true
    }
    if (seq > w.high) {
      shift(w, seq - w.high)
      w.high = seq
      set(w, 0)
      return true
    }
    const age = w.high - seq
    if (age >= window || bit(w, age)) return false
    set(w, age)
    return true
  }

  // Recover: the snapshot, then the journal written since.
  const snapPath = join(dir, SNAPSHOT)
  const journalPath = join(dir, JOURNAL)
  if (existsSync(snapPath)) {
    try {
      const snap = JSON.parse(readFileSync(snapPath, 'utf8')) as { window: number; senders: [string, number, string][] }
      for (const [name, high, bits] of snap.senders) {
        const w: SenderWindow = { high, bits: new Uint32Array(words) }
        const raw = Buffer.from(bits, 'base64') // may be a view into Node's shared pool: copy exactly its bytes
        const old = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + (raw.length & ~3)))
        w.bits.set(old.subarray(0, Math.min(words, old.length)))
        senders.set(name, w)
      }
    } catch (err) {
      throw new DaneelError('ERR_IO', `replay state ${snapPath} is unreadable; move it away to start afresh`, { cause: err })
    }
  }
  const oldJournalPath = join(dir, OLD_JOURNAL)
  for (const path of [oldJournalPath, journalPath]) {
    if (!existsSync(path)) continue
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const sp = line.lastIndexOf(' ')
      const seq = Number(line.slice(sp + 1))
      if (sp > 0 && Number.isSafeInteger(seq)) apply(line.slice(0, sp), seq) // a torn line is skipped
    }
  }

  const files = new ReplayFiles(dir)
  let entries = 0
  let dirty = false
  let closed = false

  const snapshot = (): string => {
    const list: [string, number, string][] = []
    for (const [name, w] of senders) list.push([name, w.high, Buffer.from(w.bits.buffer).toString('base64')])
    return JSON.stringify({ window, senders: list })
  }
  if (files.oldLeft) {
    try {
      files.compactNow(snapshot())
    } catch {
      entries = compactEvery // no room now (ENOSPC): the first compaction on the loop folds it in
    }
  }
  /** Every line written so far is applied (the drain loop serializes writes with this): the snapshot holds them. */
  const compactAsync = (): Promise<void> => {
    entries = 0
    return files.compact(snapshot())
  }

  interface Waiter {
    key: string
    sender: string
    seq: number
    done: Promise<void>
    resolve: () => void
    reject: (err: unknown) => void
  }
  let queue: Waiter[] = []
  const queued = new Map<string, Waiter>()
  let busy = false
  let syncDue = false
  let torn = false // the last write failed part-way: the next one starts on a new line
  const idle: (() => void)[] = []

  /** One loop does every file operation in turn: group writes first (they release acks), then compaction, then fdatasync. */
  const drain = async (): Promise<void> => {
    busy = true
    while (queue.length > 0 || (syncDue && dirty)) {
      if (queue.length > 0) {
        const batch = queue
        queue = []
        const text = batch.map((w) => `${w.sender} ${w.seq}\n`).join('')
        try {
          await files.append(Buffer.from(torn ? `\n${text}` : text))
          torn = false
          dirty = true
          for (const w of batch) {
            queued.delete(w.key)
            apply(w.sender, w.seq)
            w.resolve()
          }
          entries += batch.length
        } catch (err) {
          torn = true
          const e = new DaneelError('ERR_IO', `cannot journal the replay state: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
            cause: err,
          })
          for (const w of batch) {
            queued.delete(w.key)
            w.reject(e)
          }
        }
        if (entries >= compactEvery) await compactAsync().catch(() => (entries = 0)) // the journals hold it; tried again later
        continue
      }
      syncDue = false
      dirty = false
      await files.datasync().catch(() => (dirty = true)) // EIO/ENOSPC: tried again next time; the writes report failures
    }
    busy = false
    for (const r of idle.splice(0)) r()
  }
  const kick = (): void => {
    if (!busy) void drain()
  }
  const syncTimer = setInterval(() => {
    syncDue = true
    kick()
  }, opts.fsyncMs ?? 1000).unref()

  const judge = (sender: string, seq: number): Verdict => {
    if (!Number.isSafeInteger(seq) || seq < 0 || /[\s]/.test(sender)) return 'seen'
    const w = senders.peek(sender)
    if (w === undefined) return 'unknown'
    if (seq > w.high) return 'fresh'
    const age = w.high - seq
    return age >= window || bit(w, age) ? 'seen' : 'fresh'
  }
  const isNew = (sender: string, seq: number): boolean => judge(sender, seq) === (senders.peek(sender) === undefined ? 'unknown' : 'fresh')
  /** Synchronous: journals first, then marks in memory (a failed write leaves the number unseen). */
  const check = (sender: string, seq: number): boolean => {
    if (!isNew(sender, seq) || queued.has(`${sender} ${seq}`)) return false
    try {
      files.appendSync(`${sender} ${seq}\n`)
    } catch (err) {
      throw new DaneelError('ERR_IO', `cannot journal the replay state: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
        cause: err,
      })
    }
    apply(sender, seq)
    dirty = true
    if (++entries >= compactEvery && !busy) {
      try {
        files.compactNow(snapshot()) // this API is synchronous throughout (not the receiver's path)
      } catch {
        // the journal holds the record; folded in later
      }
      entries = 0
    }
    return true
  }
  const record = (sender: string, seq: number): Promise<void> => {
    if (closed) return Promise.reject(new DaneelError('ERR_IO', 'the replay store is closed'))
    if (!isNew(sender, seq)) return Promise.resolve() // seen already: nothing to journal
    const key = `${sender} ${seq}`
    const twin = queued.get(key)
    if (twin !== undefined) return twin.done // the same number asked for twice in one batch: one line
    let resolve: () => void = () => {}
    let reject: (err: unknown) => void = () => {}
    const done = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    const w: Waiter = { key, sender, seq, done, resolve, reject }
    queue.push(w)
    queued.set(key, w)
    kick()
    return done
  }

  return {
    check,
    judge,
    record,
    get senders() {
      return senders.size
    },
    async close() {
      if (closed) return
      closed = true
      clearInterval(syncTimer)
      if (busy) await new Promise<void>((r) => idle.push(r))
      try {
        await compactAsync()
      } finally {
        await files.close()
      }
    },
  }
}
