/** JWS compact and flattened JSON serializations (RFC 7515 §7.1, §7.2.2): strict parsing, signing-input assembly. */
import type { CryptoProvider, JwsAlg, PrivateKey } from '../crypto/provider.js'
import { DaneelError } from '../errors.js'
import { b64urlDecode, b64urlEncode, b64urlEncodeString } from './b64url.js'
import type { ByteWriter } from './byte-writer.js'
import { type JsonObject, parseJsonObject } from './json.js'
import type { Serialization } from './profiles.js'

export interface ParsedJws {
  readonly serialization: Serialization
  readonly header: JsonObject
  readonly payload: Buffer
  readonly signature: Buffer
  /** ASCII(BASE64URL(header) || '.' || BASE64URL(payload)), what the signature covers (RFC 7515 §5.1 step 8). */
  readonly signingInput: Buffer
}

/** Largest protected header we read, in base64url characters: ours are under 200; RFC 7515 sets no limit. */
export const MAX_HEADER_CHARS = 2048

const invalid = (detail: string): DaneelError => new DaneelError('ERR_JWS_INVALID', 'malformed JWS', { cause: new Error(detail) })

/**
 * A JWS or JWE protected header: at most MAX_HEADER_CHARS of base64url decoding to one strict JSON object (no
 * duplicate members); anything else is `malformed JWS` / `malformed JWE` (ERR_JWS_INVALID / ERR_JWE_INVALID).
 */
export function decodeProtectedHeader(b64: string, kind: 'JWS' | 'JWE'): JsonObject {
  const code = kind === 'JWS' ? 'ERR_JWS_INVALID' : 'ERR_JWE_INVALID'
  if (b64.length > MAX_HEADER_CHARS) throw new DaneelError(code, `malformed ${kind}`, { cause: new Error('protected header too long') })
  const what = `${kind} protected header`
  return parseJsonObject(b64urlDecode(b64, what).toString('utf8'), what, code)
}

/**
 * Decoded protected headers by their base64url text, for a reader that sees the same few headers again and again
 * (a sender's header never changes): decoding is a pure function of the text, so a hit is the same answer. The
 * cached objects are frozen and shared; the cache must be bounded (src/lru.ts).
 */
export interface HeaderCache {
  peek(b64: string): JsonObject | undefined
  set(b64: string, header: JsonObject): unknown
}

function cachedHeader(b64: string, cache: HeaderCache | undefined): JsonObject {
  if (cache === undefined) return decodeProtectedHeader(b64, 'JWS')
  let h = cache.peek(b64)
  if (h === undefined) {
    h = Object.freeze(decodeProtectedHeader(b64, 'JWS'))
    cache.set(b64, h)
  }
  return h
}

/** Parses a compact (`a.b.c`) or flattened JSON JWS. Does not verify: the caller picks the key first. */
export function parseJws(text: string, headers?: HeaderCache): ParsedJws {
  if (text.charCodeAt(0) === 0x7b /* { */) {
    const obj = parseJsonObject(text, 'JWS JSON', 'ERR_JWS_INVALID')
    for (const k in obj) {
      if (k !== 'payload' && k !== 'protected' && k !== 'signature') {
        throw new DaneelError('ERR_JOSE_HEADER', 'JWS: unexpected member', {
          cause: new Error(`member '${k}' (only a fully protected header is accepted)`),
        })
      }
    }
    const { payload, protected: prot, signature } = obj
    if (typeof payload !== 'string' || typeof prot !== 'string' || typeof signature !== 'string')
      throw invalid('JSON JWS lacks payload, protected or signature')
    return {
      serialization: 'json',
      header: decodeProtectedHeader(prot, 'JWS'),
      payload: b64urlDecode(payload, 'JWS payload'),
      signature: b64urlDecode(signature, 'JWS signature'),
      signingInput: Buffer.from(`${prot}.${payload}`, 'latin1'),
    }
  }
  const d1 = text.indexOf('.')
  const d2 = d1 < 0 ? -1 : text.indexOf('.', d1 + 1)
  if (d2 < 0 || text.indexOf('.', d2 + 1) >= 0) throw invalid('compact JWS must have three parts')
  return {
    serialization: 'compact',
    header: cachedHeader(text.slice(0, d1), headers),
    payload: b64urlDecode(text, 'JWS payload', d1 + 1, d2),
    signature: b64urlDecode(text, 'JWS signature', d2 + 1),
    signingInput: Buffer.from(text.slice(0, d2), 'latin1'),
  }
}

/** A signer for one key and one header, encoded once (the hot path only encodes the payload). */
export interface JwsSigner {
  /** Writes the compact JWS of `payload` into `out`, after what `out` holds. */
  compactInto(payload: Uint8Array, out: ByteWriter): void
  /** Flattened JSON JWS `{"payload","protected","signature"}` (the member order of the original system). */
  json(payload: Uint8Array): string
}

export function createJwsSigner(provider: CryptoProvider, alg: JwsAlg, key: PrivateKey, headerJson: string): JwsSigner {
  const headerB64 = b64urlEncodeString(headerJson)
  const prefix = `${headerB64}.`
  return {
    compactInto(payload, out) {
      const start = out.length
      out.ascii(prefix).b64url(payload)
      // the signing input is the view written so far (RFC 7515 §5.1 step 8): signed before the writer grows again
      const signature = provider.sign(alg, key, out.view(start))
      out.ascii('.').b64url(signature)
    },
    json(payload) {
      const p = b64urlEncode(payload)
      const signature = b64urlEncode(provider.sign(alg, key, Buffer.from(prefix + p, 'latin1')))
      return `{"payload":"${p}","protected":"${headerB64}","signature":"${signature}"}`
    },
  }
}
