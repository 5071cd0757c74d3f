/** Hex and byte helpers shared by x509 and dane: strict decoding (ERR_HEX_INVALID), constant-free comparisons. */
import { DaneelError } from '../errors.js'

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Lower-case hex of `bytes`, optionally joined by `sep` (e.g. '-' for PKIX-CD key ids, ':' for display). */
export function toHex(bytes: Uint8Array, sep = ''): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += (i > 0 && sep !== '' ? sep : '') + HEX[bytes[i] as number]
  return out
}

/**
 * Decodes hex. Whitespace between digits is ignored (dig splits TLSA data into 56-digit groups, RFC 6698 §2.2
 * presentation format allows it); anything else, or an odd number of digits, is ERR_HEX_INVALID.
 */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '')
  if (clean.length % 2 !== 0) throw new DaneelError('ERR_HEX_INVALID', `hex has an odd number of digits (${clean.length})`)
  if (!/^[0-9a-fA-F]*$/.test(clean)) throw new DaneelError('ERR_HEX_INVALID', 'hex contains a character that is not 0-9 or a-f')
  return new Uint8Array(Buffer.from(clean, 'hex'))
}

/** Byte equality (public data only; no secret comparisons go through here). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.length
  }
  return out
}
