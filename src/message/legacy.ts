/** The original systems' unbound messages: the DEF CON 29 workshop wrapping, the message digest and an in-memory digest window. */
import { createHash } from 'node:crypto'
import { DaneelError } from '../errors.js'
import { normalizeName, parseX5u } from './x5u.js'

/*
 * Two original systems sealed messages with no claims (no audience, time or sequence): ValiMail's dane_jwe_jws
 * (the "valimail" profile) and the DEF CON 29 workshop (ux00c6/message-security-workshop, message/scripts/
 * encode.py). The workshop's encode.py signs with jwcrypto `JWS(...).serialize()` (flattened JSON JWS, header
 * {"alg":"RS256","x5u":"<bare DNS name>"}), encrypts that with `JWE(...).serialize()` (flattened JSON JWE, header
 * {"alg":"RSA-OAEP-256","enc":"A256CBC-HS512","typ":"JWE"}, no recipient x5u) and prints
 * `base64.b64encode(jwe)`: standard base64 with padding, no line breaks.
 *
 * Telling the three wire forms apart needs no guess: a compact JWE holds four dots, a JSON JWE starts with '{',
 * and the workshop's text is standard base64 of a JSON object, so it starts with "eyJ" (base64 of '{"') and has
 * neither dots nor braces.
 *
 * Such a message can be replayed byte for byte: nothing inside changes between sends. A receiver that accepts
 * them keeps a digest of each accepted message for a window and refuses the same bytes again.
 */

const STD_B64 = /^eyJ[A-Za-z0-9+/]*={0,2}$/

/** The JSON JWE inside a workshop message, or undefined when `text` is not one (then it is parsed as it is). */
export function unwrapWorkshop(text: string): string | undefined {
  if (text.length % 4 !== 0 || !STD_B64.test(text)) return undefined
  const json = Buffer.from(text, 'base64').toString('latin1')
  return json.startsWith('{') ? json : undefined
}

/** Wraps a flattened JSON JWE as the workshop's encode.py prints it: standard base64, padded, one line. */
export function wrapWorkshop(jweJson: string): string {
  return Buffer.from(jweJson, 'latin1').toString('base64')
}

/**
 * The sender name of a workshop JWS `x5u`: the bare DNS name (decode.py lower-cases it and strips dots at either
 * end). A `dns:` URI is accepted too, so a sender that moved to the contract's form keeps working.
 */
export function parseWorkshopX5u(x5u: string): string {
  if (x5u.includes(':')) return parseX5u(x5u)
  try {
    return normalizeName(x5u.replace(/^\.+|\.+$/g, ''))
  } catch (err) {
    throw new DaneelError('ERR_X5U_INVALID', 'x5u is not a DNS name', { cause: err })
  }
}

/** Hex SHA-256 of a message exactly as received: the key of the unbound replay guard. */
export function messageDigest(message: Uint8Array | string): string {
  return createHash('sha256')
    .update(typeof message === 'string' ? Buffer.from(message, 'latin1') : message)
    .digest('hex')
}

/** Refuses a byte-exact replay of an unbound message within a window. */
export interface DigestGuard {
  /** True when `digest` was not seen within the window (and records it at `nowMs`); false for a replay. */
  check(digest: string, nowMs: number): boolean
}

/** The unbound replay window: 24 hours (an original sender's message carries no time, so any window is a policy). */
export const DIGEST_WINDOW_MS = 24 * 3600_000
/** Digests kept at most (64 B of hex + a number each: about 10 MB at the cap); the oldest go first. */
export const DIGEST_MAX_ENTRIES = 100_000

/** An in-memory digest window (one-shot commands and tests); `listen` keeps a durable one (messaging/digest-store.ts). */
export function createDigestWindow(windowMs = DIGEST_WINDOW_MS, maxEntries = DIGEST_MAX_ENTRIES): DigestGuard & { size(): number } {
  // Insertion order is time order (times only grow per process), so the oldest entry is always first.
  const seen = new Map<string, number>()
  return {
    check(digest, nowMs) {
      for (const [d, t] of seen) {
        if (nowMs - t < windowMs) break
        seen.delete(d)
      }
      const at = seen.get(digest)
      if (at !== undefined && nowMs - at < windowMs) return false
      seen.delete(digest)
      seen.set(digest, nowMs)
      if (seen.size > maxEntries) seen.delete(seen.keys().next().value as string)
      return true
    },
    size: () => seen.size,
  }
}
