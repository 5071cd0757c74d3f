/** Just enough DER (X.690) to read and write the SPKI and PKCS#8 keys the noble provider handles. */
import { concatBytes } from '../bytes.js'
import { DaneelError } from '../errors.js'

export interface Tlv {
  readonly tag: number
  /** Offset of the first content byte. */
  readonly start: number
  /** Offset just past the content. */
  readonly end: number
}

const bad = (what: string): DaneelError => new DaneelError('ERR_KEY_INVALID', `malformed key DER: ${what}`)

/** Reads one TLV at `pos` that must end by `limit`; only definite, minimal lengths (DER). */
export function readTlv(buf: Uint8Array, pos: number, limit = buf.length): Tlv {
  if (pos + 2 > limit) throw bad('truncated')
  const tag = buf[pos] as number
  let len = buf[pos + 1] as number
  let start = pos + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 3 || start + n > limit) throw bad('length')
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] as number)
    if (len < 0x80 || (n > 1 && buf[start] === 0)) throw bad('non-minimal length')
    start += n
  }
  if (start + len > limit) throw bad('truncated')
  return { tag, start, end: start + len }
}

/** The TLVs directly inside a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = []
  let pos = parent.start
  while (pos < parent.end) {
    const t = readTlv(buf, pos, parent.end)
    out.push(t)
    pos = t.end
  }
  return out
}

/** Reads a whole buffer as one TLV of the expected tag (no trailing bytes). */
export function readTop(buf: Uint8Array, tag: number): Tlv {
  const t = readTlv(buf, 0)
  if (t.tag !== tag || t.end !== buf.length) throw bad('unexpected outer structure')
  return t
}

export function expectTag(t: Tlv | undefined, tag: number): Tlv {
  if (t === undefined || t.tag !== tag) throw bad(`expected tag 0x${tag.toString(16)}`)
  return t
}

export const contents = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.start, t.end)

/** A non-negative INTEGER as a BigInt. */
export function readUint(buf: Uint8Array, t: Tlv | undefined): bigint {
  const v = expectTag(t, 0x02)
  if (v.end === v.start || ((buf[v.start] as number) & 0x80) !== 0) throw bad('negative or empty INTEGER')
  let n = 0n
  for (let i = v.start; i < v.end; i++) n = (n << 8n) | BigInt(buf[i] as number)
  return n
}

/** Encodes a TLV. */
export function encodeTlv(tag: number, content: Uint8Array): Uint8Array {
  const len = content.length
  const head = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >>> 8, len & 0xff]
  const out = new Uint8Array(head.length + len)
  out.set(head, 0)
  out.set(content, head.length)
  return out
}

/** Encodes a non-negative BigInt as a DER INTEGER. */
export function encodeUint(n: bigint): Uint8Array {
  const bytes = bigToBytes(n)
  const pad = bytes.length === 0 || ((bytes[0] as number) & 0x80) !== 0
  return encodeTlv(0x02, pad ? concatBytes(Uint8Array.of(0), bytes) : bytes)
}

/** Big-endian minimal bytes of a non-negative BigInt (empty for 0); `size` left-pads to a fixed length. */
export function bigToBytes(n: bigint, size?: number): Uint8Array {
  let hex = n.toString(16)
  if (hex.length % 2) hex = `0${hex}`
  if (n === 0n) hex = ''
  const raw = Buffer.from(hex, 'hex')
  if (size === undefined) return new Uint8Array(raw)
  if (raw.length > size) throw new DaneelError('ERR_KEY_INVALID', 'integer too large')
  const out = new Uint8Array(size)
  out.set(raw, size - raw.length)
  return out
}

export function bytesToBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`)
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
