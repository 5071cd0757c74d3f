/** The per-sender reading sequence number, persisted in DANEEL_STATE by reserving blocks (no fsync per reading). */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DaneelError } from '../src/errors.js'
import { ensureDir, writeFileAtomic } from '../src/fsutil.js'

/*
 * The file holds `{"reserved": R}`: every number below R may have been used. On open we start at R and reserve
 * R + block before handing out the first number; when the block runs out we reserve the next one (one atomic,
 * fsynced write per block). A clean close writes back the exact next number, so a restart leaves no gap; a crash
 * or power cut skips at most one block. Numbers are never reused, which is what a receiver's replay guard needs
 * (it may reject a repeated (sender, seq) as a replay). Ids stay exact below 2^53.
 */

export interface SequenceStore {
  /** The next number (the first reading after a fresh install gets 0). */
  next(): number
  /** The number the next call to next() returns. */
  peek(): number
  /** Persist the exact next number (clean shutdown). Idempotent. */
  close(): void
}

const MAX_SEQ = Number.MAX_SAFE_INTEGER

/** The file's name for an identity: one counter per sender name, so two identities never share one. */
export function sequencePath(stateDir: string, sender: string): string {
  return join(stateDir, `seq.${sender.replace(/[^a-z0-9._-]/gi, '_')}.json`)
}

function readReserved(path: string): number {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw new DaneelError('ERR_IO', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err })
  }
  let value: unknown
  try {
    value = (JSON.parse(text) as { reserved?: unknown }).reserved
  } catch (err) {
    throw new DaneelError('ERR_IO', `${path} is corrupt (not JSON); refusing to restart the sequence at 0`, { cause: err })
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new DaneelError('ERR_IO', `${path} is corrupt (reserved=${JSON.stringify(value)}); refusing to restart the sequence at 0`)
  }
  return value
}

/**
 * Opens (or creates) the counter. `block` numbers are reserved per write. `write` is replaceable for tests that
 * count writes; it must be atomic and durable.
 */
export function openSequence(
  path: string,
  block: number,
  write: (path: string, data: string) => void = (p, d) => writeFileAtomic(p, d, { mode: 0o600 }),
): SequenceStore {
  if (!Number.isSafeInteger(block) || block < 1)
    throw new DaneelError('ERR_CONFIG_INVALID', `sequence block must be a whole number >= 1, not ${block}`)
  ensureDir(join(path, '..'), 0o700)
  let next = readReserved(path)
  let reserved = next
  let closed = false
  const reserve = (upTo: number): void => {
    write(path, `{"reserved":${upTo}}\n`)
    reserved = upTo
  }
  reserve(Math.min(MAX_SEQ, next + block))
  return {
    next(): number {
      if (closed) throw new DaneelError('ERR_IO', 'sequence store is closed')
      if (next >= reserved) {
        if (reserved >= MAX_SEQ) throw new DaneelError('ERR_IO', 'sequence numbers exhausted')
        reserve(Math.min(MAX_SEQ, reserved + block))
      }
      return next++
    },
    peek: () => next,
    close(): void {
      if (closed) return
      closed = true
      reserve(next)
    },
  }
}
