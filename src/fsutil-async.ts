/** Atomic file writes off the event loop: the same temp-file, fsync, rename, fsync-the-directory steps as fsutil.ts, on libuv's pool. */
import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { DaneelError } from './errors.js'

/*
 * fsutil.ts does these steps with the synchronous calls, which is right for a key written once at start-up.
 * A hot path (the outbox's ack log, the receiver's replay snapshot) must not stop its event loop for an fsync:
 * a flash card's fsync can take tens of milliseconds, during which no message would be read, sent or
 * acknowledged. The promise resolves once the new file and its directory entry are durable.
 */

/** Replaces `path` with `data` atomically and durably: readers see the old file or the new one, never a torn one. */
export async function writeFileAtomicAsync(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const fh = await open(tmp, 'wx', mode)
    try {
      await fh.writeFile(data)
      await fh.datasync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {})
    throw new DaneelError('ERR_IO', `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    })
  }
  await fsyncDirAsync(dirname(path))
}

/** fsync a directory so a rename or a new file in it survives power loss (ignored where directories cannot be opened). */
export async function fsyncDirAsync(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  }
}
