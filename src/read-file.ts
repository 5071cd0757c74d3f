/** Bounded file reads: every file we are handed (keys, certificates, trust anchors, configs) is read with a size cap. */

import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs'
import { DaneelError } from './errors.js'

/*
 * Why: `readFileSync` reads until EOF. A path such as `/dev/zero` or `/dev/urandom` (a typo, or an attacker who
 * controls one setting) never reaches EOF: measured before this file existed, `daneel lookup` with
 * `DNSSEC_TRUST_ANCHORS=/dev/zero` was still reading after 30 s, at 4.2 GB RSS. A huge regular file fills the RAM of a Pi before anything parses it. So we stat the
 * open descriptor first (a regular file over the cap fails before one byte is read), then read at most cap + 1
 * bytes, whatever the file claims to be (character devices and /proc files report size 0).
 *
 * The caps are named for what they hold, with room to spare:
 * - PEM files: an RSA-4096 PKCS#8 key is 3.3 KB; a certificate with a long chain (leaf + 4 intermediates, each with
 *   large extensions) stays under 64 KiB. 256 KiB leaves room for anything an operator would concatenate.
 * - Text configuration (JSON config, env files, trust anchors, resolv.conf, state files): the root zone's DNSKEY
 *   and DS set is under 2 KB; the largest JSON config we ship is under 4 KB. 1 MiB is far beyond any real one.
 */

/** Keys, certificates, CSRs (PEM). */
export const MAX_PEM_FILE_BYTES = 256 * 1024
/** Configuration and small state files (JSON, env files, trust anchors, resolv.conf). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024

export interface ReadBoundedOptions {
  /** Largest accepted size in bytes. */
  maxBytes: number
  /** Named in the error ("DNSSEC_TRUST_ANCHORS file"); default "file". */
  what?: string
  /** Called with fstat of the open descriptor before reading (e.g. a permission rule); may throw. */
  check?: (st: Stats, path: string) => void
}

const CHUNK = 64 * 1024

/**
 * Reads a file (or fd 0 when `path` is 0) into a Buffer, at most `maxBytes`. ERR_IO, naming the file, when it
 * cannot be opened or read or is larger than the cap. Never reads more than `maxBytes + 1` bytes.
 */
export function readFileBounded(path: string | 0, opts: ReadBoundedOptions): Buffer {
  const { maxBytes } = opts
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a whole number, not ${maxBytes}`)
  const what = opts.what ?? 'file'
  const label = path === 0 ? 'standard input' : path
  const ioError = (err: unknown): DaneelError =>
    new DaneelError('ERR_IO', `cannot read ${what} ${label}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    })
  const tooLarge = (): DaneelError =>
    new DaneelError('ERR_IO', `${what} ${label} is larger than ${maxBytes} bytes: not a ${what} (is the path right?)`)
  let fd: number
  try {
    fd = path === 0 ? 0 : openSync(path, 'r')
  } catch (err) {
    throw ioError(err)
  }
  try {
    let st: Stats
    try {
      st = fstatSync(fd)
    } catch (err) {
      throw ioError(err)
    }
    if (st.isDirectory()) throw new DaneelError('ERR_IO', `cannot read ${what} ${label}: it is a directory`)
    opts.check?.(st, String(label))
    if (st.isFile() && st.size > maxBytes) throw tooLarge()
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      // one byte over the cap is enough to know the file is too large
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, maxBytes + 1 - total))
      let n: number
      try {
        n = readSync(fd, buf, 0, buf.length, null)
      } catch (err) {
        throw ioError(err)
      }
      if (n === 0) break
      total += n
      if (total > maxBytes) throw tooLarge()
      chunks.push(n === buf.length ? buf : buf.subarray(0, n))
    }
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total)
  } finally {
    if (path !== 0) closeSync(fd)
  }
}

/** `readFileBounded` decoded as UTF-8. */
export function readTextBounded(path: string | 0, opts: ReadBoundedOptions): string {
  return readFileBounded(path, opts).toString('utf8')
}

/** True for the ERR_IO of a file that does not exist (callers for whom a missing file means "empty"). */
export function isMissingFile(err: unknown): boolean {
  return err instanceof DaneelError && err.code === 'ERR_IO' && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
}
