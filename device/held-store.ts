/** Held readings on disk (`$DANEEL_STATE/held.jsonl`): each reading the loop keeps until it can be sealed, one JSON line, so a restart does not lose them. */
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { fsyncDir, writeFileAtomic } from '../src/fsutil.js'
import type { Logger } from '../src/log.js'

/*
 * File format, one line per held reading, oldest first:
 *
 *   {"claims":{...},"mono":123456.789,"boot":"5f0c...-..."}\n
 *
 * - `mono`: CLOCK_MONOTONIC in ms when the reading was taken. On Linux it counts from boot and is the same clock in
 *   every process (clock_gettime(2); Node's process.hrtime reads it), so a restarted process knows a reading's age:
 *   its monotonic now minus `mono`. The loop's own timers (performance.now) have a per-process origin, which is why
 *   they are not written.
 * - `boot`: the kernel's boot id (/proc/sys/kernel/random/boot_id, random per boot; 32 hex digits). CLOCK_MONOTONIC restarts at 0 on
 *   every boot, and a Pi has no RTC (its wall clock before NTP is 1970 or a saved fake-hwclock time), so a line from
 *   an earlier boot has no recoverable time: it is dropped and counted, never sealed with a guessed one.
 *
 * Appends are synchronous (open, write, fdatasync, close): a reading is held at most every few seconds, and only
 * while it cannot be sealed; the hot path (clock synced, keys known) never touches the file. A crash mid-append
 * leaves a torn last line: load() skips it and rewrites the file without it, so the next append starts a fresh line.
 * Rewrites (bound, load, release) are atomic (src/fsutil.ts: temp file, fsync, rename, fsync the directory).
 *
 * Bound: the loop keeps at most `max` readings (holdMax). Rewriting the whole file for every reading past the bound
 * would write `max` lines per reading (about 150 KB a second at one reading a second, for as long as the clock stays
 * unsynced) on an SD card; so the file may run up to a quarter past `max` lines and is then rewritten with the newest
 * `max`. load() takes only the newest `max`, which are the ones the loop held.
 */

/** The file's name under DANEEL_STATE. */
export const HELD_FILE = 'held.jsonl'

/** Where the file's time comes from: the kernel's boot id and its boot-relative monotonic clock. */
export interface BootClock {
  /** The current boot's id; '' when it cannot be read (then nothing is persisted: no time could be recovered). */
  bootId(): string
  /** CLOCK_MONOTONIC, in ms (boot-relative on Linux, shared by every process). */
  monoMs(): number
}

const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id'

/** A boot id as 32 lowercase hex digits: /proc gives a dashed UUID, systemd's `%b` the same without dashes. */
const normalizeBootId = (s: string): string => s.trim().toLowerCase().replaceAll('-', '')

/**
 * The kernel's clocks: the boot id read once (it cannot change while we run), CLOCK_MONOTONIC via process.hrtime.
 * Under systemd/daneel.service's `ProcSubset=pid`, /proc/sys is hidden: the unit passes the same id as
 * `DANEEL_BOOT_ID=%b` (systemd.unit(5) specifier), the `fallback` here.
 */
export function systemBootClock(opts: { path?: string; fallback?: string | undefined } = {}): BootClock {
  let id: string | undefined
  return {
    bootId: () => {
      if (id === undefined) {
        try {
          id = normalizeBootId(readFileSync(opts.path ?? BOOT_ID_PATH, 'utf8'))
        } catch {
          id = normalizeBootId(opts.fallback ?? '')
        }
      }
      return id
    },
    monoMs: () => Number(process.hrtime.bigint()) / 1e6,
  }
}

export interface HeldStoreOptions {
  /** The file (DANEEL_STATE/held.jsonl). */
  readonly path: string
  readonly boot: BootClock
  readonly log: Logger
}

/** A held reading read back: its claims and how long ago it was taken. */
export interface LoadedHeld {
  readonly claims: object
  readonly ageMs: number
}

export interface HeldLoad {
  /** This boot's readings, oldest first (at most `max`). */
  readonly held: LoadedHeld[]
  /** Readings taken before the last reboot: no recoverable time, dropped. */
  readonly lostReboot: number
  /** Lines that were not a held reading (a torn last line after a crash mid-append, garbage): skipped. */
  readonly unreadable: number
  /** This boot's readings beyond `max` (the oldest): dropped. */
  readonly dropped: number
}

/** The lines a file may hold past `max` before it is rewritten with the newest `max` (see the bound above). */
export const compactSlack = (max: number): number => Math.max(1, Math.ceil(max / 4))

const why = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message

/**
 * The held readings' file. The loop calls load() once, append() from hold(), and mark() then forget(mark) around a
 * release: the lines before the mark go once the outbox has made their sealed copies durable. Failures are logged
 * once per distinct reason and never thrown: the readings stay held in memory all the same.
 */
export class HeldStore {
  private readonly opts: HeldStoreOptions
  /** The file's lines, oldest first, without their '\n'. */
  private lines: string[] = []
  /** The number of lines ever removed from the front: line i is number `base + i` (for mark/forget). */
  private base = 0
  private max = Number.POSITIVE_INFINITY
  /** The file on disk may not match `lines` (a failed write): the next write rewrites it whole. */
  private stale = false
  private exists = false
  private boot = ''
  private lastError = ''

  constructor(opts: HeldStoreOptions) {
    this.opts = opts
  }

  /** Lines in the file (this process's view). */
  get size(): number {
    return this.lines.length
  }

  /**
   * Reads the file: this boot's readings come back with their age (newest `max`); the rest is counted, logged
   * once and cut from the file.
   */
  load(max: number): HeldLoad {
    this.max = max
    this.boot = this.opts.boot.bootId()
    const path = this.opts.path
    if (this.boot === '') {
      this.opts.log.warn('cannot read the boot id (nor DANEEL_BOOT_ID): held readings are kept in memory only', { path: BOOT_ID_PATH })
      return { held: [], lostReboot: 0, unreadable: 0, dropped: 0 }
    }
    let text: string
    try {
      text = readFileSync(path, 'utf8')
      this.exists = true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.opts.log.warn('cannot read the held readings; starting without them', { path, error: why(err) })
      return { held: [], lostReboot: 0, unreadable: 0, dropped: 0 }
    }
    const now = this.opts.boot.monoMs()
    const kept: string[] = []
    const held: LoadedHeld[] = []
    let lostReboot = 0
    let unreadable = 0
    for (const line of text.split('\n')) {
      if (line === '') continue
      let e: { claims?: unknown; mono?: unknown; boot?: unknown }
      try {
        e = JSON.parse(line) as typeof e
      } catch {
        unreadable++
        continue
      }
      if (
        typeof e !== 'object' ||
        e === null ||
        typeof e.claims !== 'object' ||
        e.claims === null ||
        Array.isArray(e.claims) ||
        typeof e.mono !== 'number' ||
        !Number.isFinite(e.mono) ||
        typeof e.boot !== 'string'
      ) {
        unreadable++
        continue
      }
      if (e.boot !== this.boot) {
        lostReboot++
        continue
      }
      // Same boot but taken "later" than now cannot be: not a reading of ours, and its time would be wrong.
      if (e.mono > now) {
        unreadable++
        continue
      }
      kept.push(line)
      held.push({ claims: e.claims, ageMs: now - e.mono })
    }
    const dropped = Math.max(0, held.length - max)
    if (dropped > 0) {
      held.splice(0, dropped)
      kept.splice(0, dropped)
    }
    this.lines = kept
    if (lostReboot > 0)
      this.opts.log.warn(
        `${lostReboot} held readings were taken before the last reboot: dropped, their time cannot be recovered (no RTC; the clock before NTP is wrong)`,
        { path, count: lostReboot },
      )
    if (unreadable > 0)
      this.opts.log.warn(`${unreadable} lines of the held readings are not readable (a crash mid-write): skipped`, {
        path,
        count: unreadable,
      })
    if (held.length > 0)
      this.opts.log.info(`${held.length} held readings recovered from before the restart`, { path, count: held.length, dropped })
    // A last line without its '\n' (a crash between the two) would swallow the next append: rewritten too.
    if (lostReboot > 0 || unreadable > 0 || dropped > 0 || (text !== '' && !text.endsWith('\n'))) this.rewrite()
    return { held, lostReboot, unreadable, dropped }
  }

  /** Appends one held reading (its claims, now on the boot-relative clock); past the bound, rewrites the newest `max`. */
  append(claims: object): void {
    if (this.boot === '') return
    const line = JSON.stringify({ claims, mono: this.opts.boot.monoMs(), boot: this.boot })
    this.lines.push(line)
    if (this.lines.length > this.max + compactSlack(this.max)) {
      const cut = this.lines.length - this.max
      this.lines.splice(0, cut)
      this.base += cut
      this.rewrite()
      return
    }
    if (this.stale) {
      this.rewrite()
      return
    }
    let fd: number | undefined
    try {
      fd = openSync(this.opts.path, 'a', 0o600)
      const buf = Buffer.from(`${line}\n`, 'utf8')
      let off = 0
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
      fdatasyncSync(fd)
      if (!this.exists) {
        // A new file's directory entry must be durable too.
        fsyncDir(dirname(this.opts.path))
        this.exists = true
      }
      this.lastError = ''
    } catch (err) {
      // Part of the line may be on disk: the next write replaces the whole file.
      this.stale = true
      this.failed('cannot persist a held reading (kept in memory)', err)
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  }

  /** A mark after every line written so far (taken when the loop releases what it holds). */
  mark(): number {
    return this.base + this.lines.length
  }

  /** Removes the lines before `mark` (their sealed copies are in the outbox) and rewrites the file: usually empty. */
  forget(mark: number): void {
    const n = Math.min(this.lines.length, mark - this.base)
    if (n <= 0) return
    this.lines.splice(0, n)
    this.base += n
    this.rewrite()
  }

  private rewrite(): void {
    const path = this.opts.path
    if (!this.exists && this.lines.length === 0 && !existsSync(path)) return
    try {
      writeFileAtomic(path, this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`, { mode: 0o600 })
      this.exists = true
      this.stale = false
      this.lastError = ''
    } catch (err) {
      this.stale = true
      this.failed('cannot rewrite the held readings', err)
    }
  }

  private failed(msg: string, err: unknown): void {
    const w = err instanceof Error && (err as { cause?: unknown }).cause !== undefined ? why((err as { cause: unknown }).cause) : why(err)
    if (w !== this.lastError) this.opts.log.warn(msg, { path: this.opts.path, error: w })
    this.lastError = w
  }
}
