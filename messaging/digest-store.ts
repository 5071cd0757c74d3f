/** A durable replay guard for unbound messages: digests of accepted messages, kept for a window in DANEEL_STATE, bounded. */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { ensureDir, writeFileAtomic } from '../src/fsutil.js'
import { DIGEST_MAX_ENTRIES, DIGEST_WINDOW_MS, type DigestGuard } from '../src/message/legacy.js'

/*
 * The original system's messages carry no sequence number or time (src/message/legacy.ts), so the only replay
 * a receiver can refuse is the same bytes again. Every accepted digest is appended to unbound.digests as
 * "<hex> <ms>\n" with write(2) BEFORE check() returns true (a receiver killed right after printing still
 * refuses the replay after restart), fsynced on the next tick of `fsyncMs`. On open the file is read back,
 * entries older than the window dropped. The file is rewritten (atomically) once it holds twice the live
 * entries, so it stays within 2 x maxEntries lines: 100,000 digests at about 80 bytes each, 8 MB at most.
 * At the cap the oldest digest is forgotten first (its replay would be accepted again: the cap is sized for
 * about one unbound message a second for a day, far above what the original devices send).
 */
export interface DigestStoreOptions {
  windowMs?: number
  maxEntries?: number
  fsyncMs?: number
}

export interface DurableDigestGuard extends DigestGuard {
  readonly size: number
  close(): void
}

const FILE = 'unbound.digests'
const LINE = /^([0-9a-f]{64}) (\d{1,15})$/

export function openDigestStore(dir: string, opts: DigestStoreOptions = {}): DurableDigestGuard {
  ensureDir(dir, 0o700)
  const windowMs = opts.windowMs ?? DIGEST_WINDOW_MS
  const maxEntries = opts.maxEntries ?? DIGEST_MAX_ENTRIES
  const path = join(dir, FILE)
  const seen = new Map<string, number>() // insertion order is time order
  const expire = (nowMs: number): void => {
    for (const [d, t] of seen) {
      if (nowMs - t < windowMs && seen.size <= maxEntries) break
      seen.delete(d)
    }
  }
  if (existsSync(path)) {
    const rows: [string, number][] = []
    for (const line of readFileSync(path, 'latin1').split('\n')) {
      const m = LINE.exec(line) // a torn last line is skipped
      if (m !== null) rows.push([m[1] as string, Number(m[2])])
    }
    rows.sort((a, b) => a[1] - b[1])
    for (const [d, t] of rows) {
      seen.delete(d)
      seen.set(d, t)
    }
  }
  expire(Date.now())
  let lines = seen.size
  const rewrite = (): void => {
    let text = ''
    for (const [d, t] of seen) text += `${d} ${t}\n`
    writeFileAtomic(path, text, { mode: 0o600 })
    lines = seen.size
  }
  rewrite()
  let fd = openSync(path, 'a', 0o600)
  let dirty = false
  const syncTimer = setInterval(() => {
    if (dirty) {
      dirty = false
      fsyncSync(fd)
    }
  }, opts.fsyncMs ?? 1000).unref()

  return {
    check(digest, nowMs) {
      if (!/^[0-9a-f]{64}$/.test(digest)) return false
      const at = seen.get(digest)
      if (at !== undefined && nowMs - at < windowMs) return false
      seen.delete(digest)
      seen.set(digest, nowMs)
      expire(nowMs)
      writeSync(fd, `${digest} ${Math.floor(nowMs)}\n`)
      dirty = true
      if (++lines > 2 * Math.max(seen.size, 1024)) {
        closeSync(fd)
        rewrite()
        fd = openSync(path, 'a', 0o600)
      }
      return true
    },
    get size() {
      return seen.size
    },
    close() {
      clearInterval(syncTimer)
      fsyncSync(fd)
      closeSync(fd)
    },
  }
}
