/** Atomic file writes: temp file in the same directory, fsync, rename, fsync the directory (crash-safe). */

import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, fchownSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { DaneelError } from './errors.js'

export interface AtomicWriteOptions {
  /** File mode (default 0o644; private keys 0o600). Applied at creation, so the secret is never world-readable. */
  mode?: number
  /** Owner uid (e.g. APP_UID); the gid is left alone. */
  uid?: number | undefined
}

/** Writes `data` to `path` atomically: readers see the old file or the new one, never a torn one. */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'wx', opts.mode ?? 0o644)
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    let off = 0
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
    if (opts.uid !== undefined) fchownSync(fd, opts.uid, -1)
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    renameSync(tmp, path)
    fsyncDir(dir)
  } catch (err) {
    if (fd !== undefined) closeSync(fd)
    rmSync(tmp, { force: true })
    throw new DaneelError('ERR_IO', `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    })
  }
}

/** fsync a directory so a rename in it survives power loss (ignored where directories cannot be opened). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * Creates a directory (and parents) with a clear ERR_IO on failure. Walks the path one level at a time rather
 * than `mkdirSync(..., { recursive: true })`, which on Node 20 never returns for a path under /proc.
 */
export function ensureDir(dir: string, mode = 0o755): void {
  const target = resolve(dir)
  const missing: string[] = []
  for (let p = target; ; p = dirname(p)) {
    if (existsSync(p)) break
    missing.push(p)
    if (dirname(p) === p) break
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p, { mode })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw new DaneelError('ERR_IO', `cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        cause: err,
      })
    }
  }
}
