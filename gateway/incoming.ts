/** An opened message as the store takes it: claims (`r` or top-level members) or an unbound payload → IncomingMessage. */
import { createHash } from 'node:crypto'
import { DaneelError } from '../src/errors.js'
import type { OpenedMessage } from '../src/message/open.js'
import type { IncomingMessage } from './store/types.js'

/*
 * Shapes accepted, in the order they are tried:
 * - claims-bound, the reading under one claim: `{aud, iat, seq, r: {sensor, model, values}}`, a status message
 *   as `{aud, iat, seq, r: {status: {...}}}`;
 * - claims-bound, the reading's members beside the registered claims (what device/loop.ts seals today):
 *   `{aud, iat, seq, sensor, model, values}` or `{aud, iat, seq, status: {...}}`; a flat object of numbers
 *   (`daneel send NAME '{"pm25":12.3}'`) is a reading with no sensor id: its numeric members are the values;
 * - unbound (the original system's messages, no claims): the payload as JSON in any of the shapes above,
 *   `time` = receive time, `seq` null, deduplicated by `digest`.
 * Anything that holds neither values nor a status is ERR_JWT_CLAIMS: verified, but nothing a store can keep.
 */

/** Claims that are never reading values (RFC 7519 §4.1 registered names, ours: seq, b, r). */
const NOT_VALUES = new Set(['aud', 'iss', 'iat', 'seq', 'exp', 'nbf', 'sub', 'jti', 'b', 'r', 'sensor', 'model', 'values', 'status'])

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

function invalid(why: string): DaneelError {
  return new DaneelError('ERR_JWT_CLAIMS', 'not a reading or status message', { cause: new Error(why) })
}

function numbers(from: Json, what: string, skip?: ReadonlySet<string>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(from)) {
    if (skip?.has(k)) continue
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw invalid(`${what}.${k} is not finite`)
      out[k] = v
    } else if (skip === undefined) throw invalid(`${what}.${k} is not a number`)
  }
  return out
}

function optionalString(v: unknown, what: string): string | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'string' || v.length === 0 || v.length > 128) throw invalid(`${what} must be a short string`)
  return v
}

/** The reading part of a claims set or an unbound JSON payload. */
function readingOf(body: Json): Pick<IncomingMessage, 'sensor' | 'model' | 'values' | 'status'> {
  const inner = body.r !== undefined ? body.r : body
  if (!isObject(inner)) throw invalid('r is not an object')
  if (inner.status !== undefined) {
    if (!isObject(inner.status)) throw invalid('status is not an object')
    return { sensor: null, model: null, values: {}, status: inner.status }
  }
  const sensor = optionalString(inner.sensor, 'sensor')
  const model = optionalString(inner.model, 'model')
  let values: Record<string, number>
  if (inner.values !== undefined) {
    if (!isObject(inner.values)) throw invalid('values is not an object')
    values = numbers(inner.values, 'values')
  } else values = numbers(inner, 'claims', NOT_VALUES)
  if (Object.keys(values).length === 0) throw invalid('no values and no status')
  return { sensor, model, values }
}

/** SHA-256 of the message as received, hex (the replay key of unbound messages). */
export function messageDigest(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex')
}

/**
 * Maps a verified message to what the store keeps. `raw` is the message as received (for its digest), `receivedAt`
 * ms since the epoch. Throws ERR_JWT_CLAIMS (a permanent rejection) for a message that is no reading.
 */
export function toIncoming(opened: OpenedMessage, raw: Uint8Array, receivedAt: number): IncomingMessage {
  const base = { node: opened.from, digest: messageDigest(raw), receivedAt, auth: opened.auth, profile: opened.profile }
  const claims = opened.claims
  if (claims === undefined) {
    // unbound: the payload is the reading, as the original system's devices send it
    let body: unknown
    try {
      body = JSON.parse(Buffer.from(opened.payload ?? new Uint8Array()).toString('utf8'))
    } catch {
      throw invalid('unbound payload is not JSON')
    }
    if (!isObject(body)) throw invalid('unbound payload is not a JSON object')
    return { ...base, seq: null, bound: false, time: receivedAt, ...readingOf(body) }
  }
  const { seq, iat } = claims
  // the opener checked both (src/message/claims.ts); checked again because a wrong row would be kept forever
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw invalid('seq missing')
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('iat missing')
  return { ...base, seq, bound: true, time: Math.round(iat * 1000), ...readingOf(claims as Json) }
}
