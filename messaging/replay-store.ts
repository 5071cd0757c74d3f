/** A durable replay guard: per-sender high-water mark + sliding window, journaled in DANEEL_STATE, surviving restarts. */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { DaneelError } from '../src/errors.js'
import { ensureDir, writeFileAtomic } from '../src/fsutil.js'
import { Lru } from '../src/lru.js'
import type { ReplayGuard, Verdict } from '../src/message/replay.js'

/*
 * Same rule as src/message/replay.ts (an RFC 4303 §3.4.3 window): a number above the sender's highest is
 * fresh; one within `window` below it is fresh once; older ones are refused. Durability: every accepted
 * (sender, seq) is appended to replay.journal with write(2) BEFORE check() returns true, so a receiver killed
 * right after printing a message still refuses its replay after restart. The journal is fsynced every
 * `fsyncMs` (a power cut forgets at most that much), and folded into replay.json (atomic rewrite) every
 * `compactEvery` entries. Memory: maxSenders x window/8 bytes (10,000 x 128 B = 1.3 MB by default).
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
  close(): void
}

const SNAPSHOT = 'replay.json'
const JOURNAL = 'replay.journal'

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
  if (existsSync(journalPath)) {
    for (const line of readFileSync(journalPath, 'utf8').split('\n')) {
      const sp = line.lastIndexOf(' ')
      const seq = Number(line.slice(sp + 1))
      if (sp > 0 && Number.isSafeInteger(seq)) apply(line.slice(0, sp), seq) // a torn last line is skipped
    }
  }

  let fd = openSync(journalPath, 'a', 0o600)
  let entries = 0
  let dirty = false
  const syncTimer = setInterval(() => {
    if (dirty) {
      dirty = false
      try {
        fsyncSync(fd)
      } catch {
        dirty = true // EIO/ENOSPC: try again next tick; record() reports the write failures
      }
    }
  }, opts.fsyncMs ?? 1000).unref()

  const compact = (): void => {
    const list: [string, number, string][] = []
    for (const [name, w] of senders) list.push([name, w.high, Buffer.from(w.bits.buffer).toString('base64')])
    writeFileAtomic(snapPath, JSON.stringify({ window, senders: list }), { mode: 0o600 })
    closeSync(fd)
    fd = openSync(journalPath, 'w', 0o600) // the snapshot now holds everything the journal did
    entries = 0
  }

  const judge = (sender: string, seq: number): Verdict => {
    if (!Number.isSafeInteger(seq) || seq < 0 || /[\s]/.test(sender)) return 'seen'
    const w = senders.peek(sender)
    if (w === undefined) return 'unknown'
    if (seq > w.high) return 'fresh'
    const age = w.high - seq
    return age >= window || bit(w, age) ? 'seen' : 'fresh'
  }
  /** Journals first, then marks in memory: a failed write (ENOSPC) leaves the number unseen. */
  const record = (sender: string, seq: number): boolean => {
    if (judge(sender, seq) !== (senders.peek(sender) === undefined ? 'unknown' : 'fresh')) return false
    try {
      writeSync(fd, `${sender} ${seq}\n`)
    } catch (err) {
      throw new DaneelError('ERR_IO', `cannot journal the replay state: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
        cause: err,
      })
    }
    apply(sender, seq)
    dirty = true
    if (++entries >= compactEvery) {
      try {
        compact()
      } catch {
        entries = 0 // the journal holds the record; the fold into replay.json is tried again later
      }
    }
    return true
  }

  return {
    check: record,
    judge,
    record(sender, seq) {
      record(sender, seq)
    },
    get senders() {
      return senders.size
    },
    close() {
      clearInterval(syncTimer)
      compact()
      closeSync(fd)
    },
  }
}
