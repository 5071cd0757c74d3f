/** Atomic file writes: temp file in the same directory, fsync, rename, fsync the directory (crash-safe); pairs renamed back to back. */

import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, fchownSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
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
  writeFilesAtomic([{ path, data, ...(opts.mode === undefined ? {} : { mode: opts.mode }) }], { uid: opts.uid })
}

export interface AtomicFile {
  path: string
  data: string | Uint8Array
  /** Default 0o644; private keys 0o600. */
  mode?: number
}

/**
 * Replaces several files that belong together (a key and its certificate): every temp file is written and fsynced
 * first, then the renames run back to back, in the order given, and the directories are fsynced last. A reader sees
 * each file old or new, never torn; between two renames (microseconds, no I/O) it may see the first file new and the
 * second old, which a reader of the pair retries (src/identity/pair.ts). If a temp file cannot be written, nothing
 * is replaced; if a later rename fails, the files already renamed get their old content back.
 */
export function writeFilesAtomic(files: readonly AtomicFile[], opts: { uid?: number | undefined } = {}): void {
  const tmps: string[] = []
  // what a failed later rename must put back (the files are small: keys, certificates)
  const before = files.slice(0, -1).map((f) => readIfExists(f.path))
  let current = files[0]?.path ?? ''
  let renamed = 0
  try {
    for (const f of files) {
      current = f.path
      tmps.push(writeTemp(f, opts.uid))
    }
    for (const [i, f] of files.entries()) {
      current = f.path
      renameSync(tmps[i] as string, f.path)
      tmps[i] = ''
      renamed++
    }
  } catch (err) {
    for (const t of tmps) if (t !== '') rmSync(t, { force: true })
    for (const [i, f] of files.slice(0, renamed).entries()) {
      const old = before[i]
      if (old === undefined) rmSync(f.path, { force: true })
      else renameSync(writeTemp({ ...f, data: old }, opts.uid), f.path)
    }
    throw new DaneelError('ERR_IO', `cannot write ${current}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    })
  }
  for (const dir of new Set(files.map((f) => dirname(f.path)))) fsyncDir(dir)
}

function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new DaneelError('ERR_IO', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
}

/** Writes and fsyncs a temp file beside `f.path`; returns its path (removed again on failure). */
function writeTemp(f: AtomicFile, uid: number | undefined): string {
  const tmp = join(dirname(f.path), `.${basename(f.path)}.${randomBytes(6).toString('hex')}.tmp`)
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'wx', f.mode ?? 0o644)
    const buf = typeof f.data === 'string' ? Buffer.from(f.data, 'utf8') : f.data
    let off = 0
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
    if (uid !== undefined) fchownSync(fd, uid, -1)
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    return tmp
  } catch (err) {
    if (fd !== undefined) closeSync(fd)
    rmSync(tmp, { force: true })
    throw err
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
