/** The per-sender reading sequence number, persisted in DANEEL_STATE by reserving blocks under a lock file (no fsync per reading). */
import { closeSync, fdatasyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { DaneelError } from '../src/errors.js'
import { ensureDir, writeFileAtomic } from '../src/fsutil.js'
import { type Logger, silentLogger } from '../src/log.js'
import { isSpaceError, SpaceFaults } from './space-faults.js'

/*
 * Why it is built this way:
 * - The file holds `{"reserved": R}` (padded to a fixed width): every number below R may have been used. A process
 *   takes a block [R, R + block) by rewriting the file to R + block, and hands those numbers out from memory; when
 *   the block runs out it takes the next one. A crash skips at most one block; numbers are never reused, which is
 *   what a receiver's replay guard needs (it rejects a repeated (sender, seq) as a replay).
 * - Several processes share the file (`daneel run` and any number of `daneel send`s on one state directory), so
 *   read-and-advance must be exclusive. Node has no flock(2); the lock is a file `<file>.lock` created with O_EXCL
 *   (atomic on every local filesystem) holding our PID. The critical section is one read and one small fsynced
 *   write, so a waiter polls every 2 ms (Atomics.wait: next() is synchronous) for up to 30 s.
 * - A holder killed with -9 leaves the lock behind. It is stale when its PID is not alive (kill(pid, 0) gives
 *   ESRCH), or, for an empty lock (full disk while writing the PID) or a PID reused by another process, when it is
 *   older than 10 s (no holder keeps it more than a write). Breaking it is a rename to a private name followed by
 *   a check that what we renamed is what we judged stale; only one breaker's rename can succeed. If we renamed a
 *   fresh lock instead (another breaker replaced it in between), it is linked back.
 * - A lost or corrupt file never restarts at 0: the new start is max(the file's value, a time seed) where the time
 *   seed is seconds since the epoch times 2^21. Any earlier run, seeded at an earlier second, had to hand out more
 *   than 2 million numbers per second since then to overtake it; a sensor node sends a few per second. This is
 *   logged once. The outbox cannot serve as a lower bound: its records are sealed to the recipient, and the sender
 *   cannot read the number back. The time seed needs a clock at least as late as the earlier seed's.
 * - A full disk (ENOSPC, EDQUOT) never makes next() throw (the device loop calls it on every reading). The block
 *   is first rewritten in place (no new blocks needed: the file has a fixed width), and if even that fails the
 *   numbers are handed out from memory, counted, and logged once per streak (space-faults.ts). A crash during
 *   such a streak can reuse the numbers handed out since the last durable write; those readings lived in memory.
 */

export interface SequenceStore {
  /** The next number. A fresh state directory starts from the time seed. */
  next(): number
  /** The number the next call to next() returns (reserves a block first when none is held). */
  peek(): number
  /** Gives back the unused rest of our block when no other process reserved after us (clean shutdown). Idempotent. */
  close(): void
  /** Whether the last reservation reached the disk ('memory' during a full-disk streak). */
  readonly status?: 'ok' | 'memory'
}

export interface SequenceOptions {
  /** Atomic, durable write (tests count or fail writes with it). */
  write?: (path: string, data: string) => void
  logger?: Logger
  /** Wall clock for the time seed (ms). */
  now?: () => number
  /** How long to wait for another process's lock before failing (ms). */
  lockTimeoutMs?: number
}

const MAX_SEQ = Number.MAX_SAFE_INTEGER
const WIDTH = 64
const STALE_MS = 10_000
const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** The time seed: seconds since the epoch in the high part (below 2^53 until the year 2106). */
export function timeSeed(nowMs: number): number {
  return Math.min(MAX_SEQ - 2 ** 21, Math.max(0, Math.floor(nowMs / 1000)) * 2 ** 21)
}

/** The file's name for an identity: one counter per sender name, so two identities never share one. */
export function sequencePath(stateDir: string, sender: string): string {
  return join(stateDir, `seq.${sender.replace(/[^a-z0-9._-]/gi, '_')}.json`)
}

/** The file's value, or why there is none ('missing' or a corruption note). */
function readReserved(path: string): number | string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw new DaneelError('ERR_IO', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err })
  }
  try {
    const value = (JSON.parse(text) as { reserved?: unknown }).reserved
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
    return `corrupt (reserved=${JSON.stringify(value)})`
  } catch {
    return 'corrupt (not JSON)'
  }
}

const encode = (n: number): string => `${`{"reserved":${n}}`.padEnd(WIDTH - 1, ' ')}\n`

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes `<path>.lock` (see the top of the file); returns the release function. */
function lock(path: string, timeoutMs: number): () => void {
  const lockPath = `${path}.lock`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let fd: number | undefined
    try {
      fd = openSync(lockPath, 'wx', 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, `${process.pid}\n`)
      } catch {
        // a full disk: the lock is held all the same; an empty lock is judged by its age
      }
      closeSync(fd)
      return () => rmSync(lockPath, { force: true })
    }
    breakIfStale(lockPath)
    if (Date.now() > deadline) {
      throw new DaneelError('ERR_IO', `${lockPath} is held by another process for more than ${timeoutMs} ms`)
    }
    Atomics.wait(sleeper, 0, 0, 2)
  }
}

function breakIfStale(lockPath: string): void {
  let seen: string
  let age: number
  try {
    seen = readFileSync(lockPath, 'utf8')
    age = Date.now() - statSync(lockPath).mtimeMs
  } catch {
    return // released meanwhile
  }
  const pid = Number.parseInt(seen, 10)
  const stale = Number.isSafeInteger(pid) && pid > 0 ? !alive(pid) || age > STALE_MS : age > STALE_MS
  if (!stale) return
  const mine = `${lockPath}.stale-${process.pid}`
  try {
    renameSync(lockPath, mine)
  } catch {
    return // another breaker won
  }
  try {
    if (readFileSync(mine, 'utf8') !== seen) renameSync(mine, lockPath) // not the one we judged: put it back
  } catch {
    // gone or replaced: the holder's own release removes whatever is at lockPath
  } finally {
    rmSync(mine, { force: true })
  }
}

/** Opens the counter (nothing is read or written until the first number is needed). `block` numbers per reservation. */
export function openSequence(path: string, block: number, opts: SequenceOptions = {}): SequenceStore {
  if (!Number.isSafeInteger(block) || block < 1)
    throw new DaneelError('ERR_CONFIG_INVALID', `sequence block must be a whole number >= 1, not ${block}`)
  const write = opts.write ?? ((p: string, d: string) => writeFileAtomic(p, d, { mode: 0o600 }))
  const log = opts.logger ?? silentLogger
  const now = opts.now ?? Date.now
  const faults = new SpaceFaults(log, 'sequence file')
  ensureDir(join(path, '..'), 0o700)
  let next = 0
  let reserved = 0 // end of our block; next === reserved means none held
  let closed = false
  let status: 'ok' | 'memory' = 'ok'
  let seeded = false // logged once per process

  const persist = (value: number): boolean => {
    try {
      write(path, encode(value))
      faults.ok()
      return true
    } catch (err) {
      if (!isSpaceError(err)) throw err
      try {
        const fd = openSync(path, 'r+')
        try {
          writeSync(fd, encode(value), 0)
          fdatasyncSync(fd)
        } finally {
          closeSync(fd)
        }
        faults.ok()
        return true
      } catch {
        faults.fault(err)
        return false
      }
    }
  }

  const reserve = (): void => {
    let release: (() => void) | undefined
    try {
      release = lock(path, opts.lockTimeoutMs ?? 30_000)
    } catch (err) {
      if (!isSpaceError(err)) throw err
      faults.fault(err) // not even an empty file fits: carry on in memory
    }
    try {
      const found = readReserved(path)
      let start = typeof found === 'number' ? found : 0
      if (typeof found === 'string') {
        const seed = timeSeed(now())
        if (!seeded) log.warn(`sequence file ${found}; starting from the time seed`, { path, seq: Math.max(seed, reserved) })
        seeded = true
        start = seed
      }
      start = Math.max(start, reserved) // never behind what this process already handed out
      if (start >= MAX_SEQ) throw new DaneelError('ERR_IO', 'sequence numbers exhausted')
      const end = Math.min(MAX_SEQ, start + block)
      status = persist(end) ? 'ok' : 'memory'
      next = start
      reserved = end
    } finally {
      release?.()
    }
  }

  return {
    next(): number {
      if (closed) throw new DaneelError('ERR_IO', 'sequence store is closed')
      if (next >= reserved) reserve()
      return next++
    },
    peek(): number {
      if (next >= reserved && !closed) reserve()
      return next
    },
    get status() {
      return status
    },
    close(): void {
      if (closed) return
      closed = true
      if (next >= reserved || status === 'memory') return
      try {
        const release = lock(path, 2_000)
        try {
          if (readReserved(path) === reserved) persist(next) // nobody reserved after us: give back the rest
        } finally {
          release()
        }
      } catch {
        // the unused rest of the block is skipped: a gap, never a reuse
      }
    },
  }
}
