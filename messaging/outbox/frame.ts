/** Outbox record framing: magic, length, CRC32, body; a scanner that skips torn or corrupt records and counts them. */
import { crc32 } from 'node:zlib'

/*
 * Wire rules of one record (all integers big-endian):
 *   0  2  magic 0xDA 0xE1   lets the scanner resync after a corrupt record in the middle of a file
 *   2  4  body length       at most MAX_BODY, so a flipped length bit cannot make us allocate gigabytes
 *   6  4  CRC32 (zlib/IEEE 802.3) of the body
 *  10  n  body
 * A write cut short by a crash or power loss leaves a tail that fails the length or the CRC check: it is
 * detected, counted and cut off, never delivered. The body layout is the caller's (see outbox.ts).
 */
export const MAGIC0 = 0xda
export const MAGIC1 = 0xe1
export const HEADER_BYTES = 10
/** 1 MiB: far above MAX_MESSAGE_SIZE (16 KiB default) plus topic; anything longer is corruption. */
export const MAX_BODY = 1 << 20

/** Frames one body into a fresh buffer. */
export function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length)
  out.set(body, HEADER_BYTES)
  return frameInPlace(out)
}

/** Writes the header of a buffer whose body was already written from offset HEADER_BYTES on (one allocation per record). */
export function frameInPlace(out: Buffer): Buffer {
  out[0] = MAGIC0
  out[1] = MAGIC1
  out.writeUInt32BE(out.length - HEADER_BYTES, 2)
  out.writeUInt32BE(crc32(out.subarray(HEADER_BYTES)), 6)
  return out
}

export interface ScannedRecord {
  /** Offset of the record's header in the file. */
  offset: number
  /** The body (a view into the scanned buffer). */
  body: Buffer
}

export interface ScanResult {
  records: ScannedRecord[]
  /** Records (or runs of bytes) that failed the magic, length or CRC check and were skipped. */
  corrupt: number
  /** Offset just past the last good record: where a torn tail begins (equal to the length when clean). */
  goodEnd: number
}

/** Scans a whole file's bytes. A bad record is skipped by searching for the next magic whose record checks out. */
export function scan(buf: Buffer): ScanResult {
  const records: ScannedRecord[] = []
  let corrupt = 0
  let goodEnd = 0
  let off = 0
  let inBadRun = false
  while (off + HEADER_BYTES <= buf.length) {
    const rec = tryRecord(buf, off)
    if (rec !== undefined) {
      records.push({ offset: off, body: rec })
      off += HEADER_BYTES + rec.length
      goodEnd = off
      inBadRun = false
      continue
    }
    if (!inBadRun) corrupt++
    inBadRun = true
    // resync: the next candidate magic after this offset
    const next = buf.indexOf(MAGIC0, off + 1)
    if (next < 0) break
    off = next
  }
  if (goodEnd < buf.length && !inBadRun) corrupt++ // a short tail (fewer bytes than a header, or a cut record)
  return { records, corrupt, goodEnd }
}

function tryRecord(buf: Buffer, off: number): Buffer | undefined {
  if (buf[off] !== MAGIC0 || buf[off + 1] !== MAGIC1) return undefined
  const len = buf.readUInt32BE(off + 2)
  if (len > MAX_BODY || off + HEADER_BYTES + len > buf.length) return undefined
  const body = buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len)
  if (crc32(body) !== buf.readUInt32BE(off + 6)) return undefined
  return body
}
