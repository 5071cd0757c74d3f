/** The JWT claims set of a sealed reading (RFC 7519 §4): what binds a reading to its recipient, time and place in sequence. */
import { DaneelError } from '../errors.js'
import type { JsonObject } from '../jose/json.js'

/*
 * Claims, and why each one earns its bytes (for the 79-byte reading with a 35-character recipient name):
 *   aud  recipient name (8 + name bytes). Without it a receiver could re-encrypt a signed reading to a third
 *        party who would take it as addressed to them (the JWE binds nothing about the sender).
 *   iat  issue time, Unix seconds (17 bytes). Bounds how long a captured message stays usable and how far
 *        ahead a sender's clock may run.
 *   seq  per-sender sequence number (about 9 bytes). The replay guard keys on (sender, seq).
 *   iss  optional: the sender name is already signed in the JWS `x5u`; when present it must agree.
 *   r    the reading, a JSON object, as it was given (6 bytes of wrapping). Under a claim of its own, user data
 *        can never collide with a protocol claim: a reading may carry its own `seq`, `iat`, `aud` or `b`.
 *   b    instead of `r`, a binary reading as base64url.
 * Devices deployed before `r` put the reading's members beside the claims; openers still read that form
 * (`readingOf`): those devices never sent the reserved names, so nothing there can collide either.
 */
/** The claim that carries a JSON reading. */
export const READING_CLAIM = 'r'

/** Protocol claims: never part of a reading in the old top-level form (`readingOf`). */
export const RESERVED_CLAIMS: readonly string[] = ['aud', 'iss', 'iat', 'seq', 'exp', 'nbf', 'sub', 'jti', 'b', 'r']

/** A JSON reading as JSON text (the value of the `r` claim). */
export function readingJson(reading: object): string {
  if (reading === null || typeof reading !== 'object' || Array.isArray(reading))
    throw new DaneelError('ERR_USAGE', 'a reading is a JSON object or bytes')
  let json: string | undefined
  try {
    json = JSON.stringify(reading)
  } catch (err) {
    throw new DaneelError('ERR_USAGE', 'a reading must be serializable as JSON', { cause: err })
  }
  if (json === undefined || json.charCodeAt(0) !== 0x7b) throw new DaneelError('ERR_USAGE', 'a reading is a JSON object or bytes')
  return json
}

/**
 * The reading of a verified claims set: the `r` claim, or (devices deployed before `r`) the members that are not
 * protocol claims; undefined when there is none (a binary reading, in `b`). A malformed `r` is ERR_JWT_CLAIMS.
 */
export function readingOf(claims: JsonObject): JsonObject | undefined {
  const r = claims[READING_CLAIM]
  if (r !== undefined) {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw claimsError('r is not an object')
    return r as JsonObject
  }
  let out: JsonObject | undefined
  for (const name of Object.keys(claims)) {
    if (RESERVED_CLAIMS.includes(name)) continue
    out ??= {}
    out[name] = claims[name]
  }
  return out
}

export interface ClaimsCheck {
  sender: string
  recipient: string
  nowMs: number
  maxAgeMs: number
  maxSkewMs: number
}

const claimsError = (detail: string): DaneelError => new DaneelError('ERR_JWT_CLAIMS', 'malformed claims', { cause: new Error(detail) })

/** Checks iss, aud and the time claims (the clock must already be known to be synced); returns `seq`. */
export function checkClaims(claims: JsonObject, c: ClaimsCheck): number {
  const { iss, aud, iat, seq, exp, nbf } = claims
  if (iss !== undefined && (typeof iss !== 'string' || iss.toLowerCase().replace(/\.$/, '') !== c.sender)) {
    throw new DaneelError('ERR_JWT_ISSUER', 'issuer does not match the signer', {
      cause: new Error(`iss ${JSON.stringify(iss)} signed by ${c.sender}`),
    })
  }
  if (aud === undefined) throw claimsError('no aud')
  const auds =
    typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? (aud as string[]) : undefined
  if (auds === undefined) throw claimsError('aud is not a string or an array of strings')
  // as sealed (our name, normalised) first: a plain comparison, no case folding per message
  if (!auds.includes(c.recipient) && !auds.some((a) => a.toLowerCase().replace(/\.$/, '') === c.recipient)) {
    throw new DaneelError('ERR_JWT_AUDIENCE', 'not addressed to us', {
      cause: new Error(`aud ${JSON.stringify(aud)}, we are ${c.recipient}`),
    })
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw claimsError('iat missing or not a number')
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw claimsError('seq missing or not a non-negative integer')
  const issuedMs = iat * 1000
  if (c.nowMs - issuedMs > c.maxAgeMs)
    throw new DaneelError('ERR_JWT_EXPIRED', 'message too old', { cause: new Error(`iat ${iat}, now ${c.nowMs / 1000}`) })
  if (issuedMs - c.nowMs > c.maxSkewMs)
    throw new DaneelError('ERR_JWT_FUTURE', 'message dated in the future', { cause: new Error(`iat ${iat}, now ${c.nowMs / 1000}`) })
  if (exp !== undefined) {
    if (typeof exp !== 'number') throw claimsError('exp is not a number')
    if (c.nowMs - exp * 1000 >= c.maxSkewMs) throw new DaneelError('ERR_JWT_EXPIRED', 'message too old', { cause: new Error(`exp ${exp}`) })
  }
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') throw claimsError('nbf is not a number')
    if (nbf * 1000 - c.nowMs > c.maxSkewMs)
      throw new DaneelError('ERR_JWT_FUTURE', 'message dated in the future', { cause: new Error(`nbf ${nbf}`) })
  }
  return seq
}
