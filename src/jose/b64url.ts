/** Strict base64url without padding (RFC 7515 §2, RFC 4648 §5): one canonical encoding per byte string. */
import { DaneelError } from '../errors.js'

// Node's Buffer decoder silently skips bad characters and ignores non-zero trailing bits, so two different
// strings can decode to the same bytes (a malleability an attacker can use to dodge a replay cache keyed on
// text). We accept only the alphabet, no '=' or whitespace, and zero trailing bits.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const VALUE = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i

/** Encodes bytes as unpadded base64url. */
export function b64urlEncode(bytes: Uint8Array): string {
  // A Buffer encodes itself; wrapping it again would allocate a view per call on the sealing hot path.
  if (Buffer.isBuffer(bytes)) return bytes.toString('base64url')
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/** Encodes a UTF-8 string as unpadded base64url. */
export function b64urlEncodeString(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}

/** True when `s` (or `s.slice(start, end)`) is canonical unpadded base64url. */
export function isB64url(s: string, start = 0, end = s.length): boolean {
  const len = end - start
  if (len % 4 === 1) return false
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c >= 128 || VALUE[c] === -1) return false
  }
  if (len === 0) return true
  const last = VALUE[s.charCodeAt(end - 1)] as number
  // 2 chars carry 1 byte (4 spare bits), 3 chars carry 2 bytes (2 spare bits): the spare bits must be zero.
  if (len % 4 === 2) return (last & 0x0f) === 0
  if (len % 4 === 3) return (last & 0x03) === 0
  return true
}

/**
 * Decodes canonical base64url of `s.slice(start, end)`; throws ERR_B64URL_INVALID otherwise. Canonical means
 * exactly what `isB64url` accepts, tested here as encode(decode(text)) === text: Node's decoder maps anything
 * else (a foreign or '+' '/' '=' character, whitespace, a dangling character, non-zero trailing bits) to bytes
 * that encode differently. Both steps are native: about 4x faster than the character loop on a 526-character
 * ciphertext (6.2 µs against 1.3 µs; an open decodes about 850 characters).
 */
export function b64urlDecode(s: string, what = 'base64url', start = 0, end = s.length): Buffer {
  const text = start === 0 && end === s.length ? s : s.slice(start, end)
  const out = Buffer.from(text, 'base64url')
  if (out.toString('base64url') !== text) throw new DaneelError('ERR_B64URL_INVALID', `${what} is not canonical base64url`)
  return out
}

/** Decoded length of `len` base64url characters (valid lengths only). */
export function b64urlDecodedLength(len: number): number {
  return Math.floor((len * 3) / 4)
}
