/** The replay guard's files: replay.json (snapshot), replay.journal and, during a compaction, replay.journal.old; async I/O on libuv's pool. */
import { close, closeSync, existsSync, fdatasync, open, openSync, rename, rmSync, unlink, write, writeSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '../src/fsutil.js'
import { writeFileAtomicAsync } from '../src/fsutil-async.js'

export const SNAPSHOT = 'replay.json'
export const JOURNAL = 'replay.journal'
export const OLD_JOURNAL = 'replay.journal.old'

type Cb<T> = (err: NodeJS.ErrnoException | null, v?: T) => void
const call = <T>(fn: (done: Cb<T>) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))))

/*
 * A compaction must not lose the lines written while it runs, nor stop the loop: the journal is renamed to
 * replay.journal.old, new lines go to a fresh journal, the snapshot (which holds everything the old journal did)
 * is written atomically and fsynced, then the old journal is removed. A crash in between leaves both journals;
 * the reader (replay-store.ts) applies snapshot, old journal, journal, in that order, and lines are idempotent.
 * The caller serializes the async calls (one at a time); appendSync may run between them.
 */
export class ReplayFiles {
  readonly snapPath: string
  readonly journalPath: string
  readonly oldJournalPath: string
  #fd: number
  /** An old journal found at open and not yet folded into a snapshot. */
  #oldLeft: boolean

  constructor(dir: string) {
    this.snapPath = join(dir, SNAPSHOT)
    this.journalPath = join(dir, JOURNAL)
    this.oldJournalPath = join(dir, OLD_JOURNAL)
    this.#fd = openSync(this.journalPath, 'a', 0o600)
    this.#oldLeft = existsSync(this.oldJournalPath)
  }

  get oldLeft(): boolean {
    return this.#oldLeft
  }

  /** Synchronous, when nothing else writes: at open (an old journal left by a crash), and for check()'s callers. */
  compactNow(snapshot: string): void {
    writeFileAtomic(this.snapPath, snapshot, { mode: 0o600 })
    closeSync(this.#fd)
    this.#fd = openSync(this.journalPath, 'w', 0o600) // the snapshot now holds everything the journals did
    rmSync(this.oldJournalPath, { force: true })
    this.#oldLeft = false
  }

  /** write(2) of every byte, on libuv's pool. */
  append(buf: Buffer): Promise<void> {
    const fd = this.#fd
    return new Promise((resolve, reject) => {
      const step = (off: number): void =>
        write(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : off + n < buf.length ? step(off + n) : resolve()))
      step(0)
    })
  }

  appendSync(line: string): void {
    writeSync(this.#fd, line)
  }

  datasync(): Promise<void> {
    return call<void>((done) => fdatasync(this.#fd, done))
  }

  /** Rotates the journal and writes `snapshot` (taken when every line written so far was applied), off the loop. */
  async compact(snapshot: string): Promise<void> {
    if (this.#oldLeft) {
      // an old journal that could not be folded in at open: its lines are applied, so the snapshot covers it
      await writeFileAtomicAsync(this.snapPath, snapshot, 0o600)
      await call<void>((done) => unlink(this.oldJournalPath, done))
      this.#oldLeft = false
    }
    await call<void>((done) => rename(this.journalPath, this.oldJournalPath, done))
    this.#oldLeft = true // until the snapshot is durable
    const next = await call<number>((done) => open(this.journalPath, 'a', 0o600, done))
    const old = this.#fd
    this.#fd = next
    await call<void>((done) => close(old, done))
    await writeFileAtomicAsync(this.snapPath, snapshot, 0o600)
    await call<void>((done) => unlink(this.oldJournalPath, done))
    this.#oldLeft = false
  }

  close(): Promise<void> {
    return call<void>((done) => close(this.#fd, done))
  }
}
