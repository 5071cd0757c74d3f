/** Hex helpers shared by x509 and dane: lower-case encoding, strict decoding (ERR_HEX_INVALID). */
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
