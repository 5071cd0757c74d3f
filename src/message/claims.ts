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
 *   ...  the reading's own members, spliced in (no wrapper object: saves 6 bytes); a binary reading goes
 *        in `b` as base64url.
 * The names that carry meaning to JWT libraries (exp, nbf, sub, jti) are refused in readings, so a reading
 * cannot change how `jose` or we judge the message.
 */
export const RESERVED_CLAIMS: readonly string[] = ['aud', 'iss', 'iat', 'seq', 'exp', 'nbf', 'sub', 'jti', 'b']

/**
 * The members of `reading` as JSON text without braces (`"pm25":12.3,...`), checked against the reserved
 * names. A device loop numbers its readings with the counter it seals with, so a reading may carry `seq`
 * when it equals the message's: it is then written once, from the reading (no copy of the object is made).
 */
export function readingMembers(reading: object, seq: number): string {
  if (reading === null || typeof reading !== 'object' || Array.isArray(reading))
    throw new DaneelError('ERR_USAGE', 'a reading is a JSON object or bytes')
  const source = reading as Record<string, unknown>
  for (const name of RESERVED_CLAIMS) {
    if (!Object.hasOwn(source, name)) continue
    if (name === 'seq' && source.seq === seq) continue
    throw new DaneelError('ERR_USAGE', `a reading may not carry the claim '${name}'${name === 'seq' ? ' with a different value' : ''}`)
  }
  let json: string | undefined
  try {
    json = JSON.stringify(source)
  } catch (err) {
    throw new DaneelError('ERR_USAGE', 'a reading must be serializable as JSON', { cause: err })
  }
  if (json === undefined || json.charCodeAt(0) !== 0x7b) throw new DaneelError('ERR_USAGE', 'a reading is a JSON object or bytes')
  return json.slice(1, -1)
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
  if (!auds.some((a) => a.toLowerCase().replace(/\.$/, '') === c.recipient)) {
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
