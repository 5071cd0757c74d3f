/** JWE compact and flattened JSON serializations (RFC 7516 §7.1, §7.2.2), the `epk` JWK (RFC 7518 §4.6.1.1), and decryption. */
import { concatKdfOtherInfo } from '../crypto/kdf.js'
import type { CryptoProvider, KeyKind, PrivateKey } from '../crypto/provider.js'
import { DaneelError } from '../errors.js'
import { b64urlDecode } from './b64url.js'
import type { ByteWriter } from './byte-writer.js'
import { type JsonObject, parseJsonObject } from './json.js'
import { decodeProtectedHeader } from './jws.js'
import type { Profile, Serialization } from './profiles.js'

export interface ParsedJwe {
  readonly serialization: Serialization
  readonly header: JsonObject
  readonly encryptedKey: Buffer
  readonly iv: Buffer
  readonly ciphertext: Buffer
  readonly tag: Buffer
  /** ASCII(BASE64URL(protected header)): the AAD (RFC 7516 §5.1 step 14; no JSON `aad` member is accepted). */
  readonly aad: Buffer
}

const invalid = (detail: string): DaneelError => new DaneelError('ERR_JWE_INVALID', 'malformed JWE', { cause: new Error(detail) })
const JSON_MEMBERS = new Set(['protected', 'encrypted_key', 'iv', 'ciphertext', 'tag'])

/** Parses a compact (five parts) or flattened JSON JWE; everything must be in the protected header. */
export function parseJwe(text: string): ParsedJwe {
  if (text.charCodeAt(0) === 0x7b /* { */) {
    const obj = parseJsonObject(text, 'JWE JSON', 'ERR_JWE_INVALID')
    for (const k in obj) {
      if (!JSON_MEMBERS.has(k))
        throw new DaneelError('ERR_JOSE_HEADER', 'JWE: unexpected member', {
          cause: new Error(`member '${k}' (unprotected headers and aad are not accepted)`),
        })
      if (typeof obj[k] !== 'string') throw invalid(`member '${k}' is not a string`)
    }
    const prot = obj.protected
    if (typeof prot !== 'string' || typeof obj.iv !== 'string' || typeof obj.ciphertext !== 'string' || typeof obj.tag !== 'string')
      throw invalid('JSON JWE lacks a member')
    return {
      serialization: 'json',
      header: decodeProtectedHeader(prot, 'JWE'),
      encryptedKey: b64urlDecode((obj.encrypted_key as string | undefined) ?? '', 'JWE encrypted key'),
      iv: b64urlDecode(obj.iv, 'JWE IV'),
      ciphertext: b64urlDecode(obj.ciphertext, 'JWE ciphertext'),
      tag: b64urlDecode(obj.tag, 'JWE tag'),
      aad: Buffer.from(prot, 'latin1'),
    }
  }
  const d1 = text.indexOf('.')
  const d2 = d1 < 0 ? -1 : text.indexOf('.', d1 + 1)
  const d3 = d2 < 0 ? -1 : text.indexOf('.', d2 + 1)
  const d4 = d3 < 0 ? -1 : text.indexOf('.', d3 + 1)
  if (d4 < 0 || text.indexOf('.', d4 + 1) >= 0) throw invalid('compact JWE must have five parts')
  const prot = text.slice(0, d1)
  return {
    serialization: 'compact',
    header: decodeProtectedHeader(prot, 'JWE'),
    encryptedKey: b64urlDecode(text, 'JWE encrypted key', d1 + 1, d2),
    iv: b64urlDecode(text, 'JWE IV', d2 + 1, d3),
    ciphertext: b64urlDecode(text, 'JWE ciphertext', d3 + 1, d4),
    tag: b64urlDecode(text, 'JWE tag', d4 + 1),
    aad: Buffer.from(prot, 'latin1'),
  }
}

/** Writes the `epk` JWK for our ephemeral public key, members in RFC 7638 order (kty, crv, x, y). */
export function writeEpk(w: ByteWriter, kind: KeyKind, epk: Uint8Array): void {
  if (kind === 'p256') w.ascii('{"kty":"EC","crv":"P-256","x":"').b64url(epk, 1, 33).ascii('","y":"').b64url(epk, 33, 65).ascii('"}')
  else w.ascii('{"kty":"OKP","crv":"X25519","x":"').b64url(epk).ascii('"}')
}

const badEpk = (detail: string): DaneelError => new DaneelError('ERR_JWE_EPK', 'invalid ephemeral key', { cause: new Error(detail) })

function coordinate(v: unknown, name: string): Buffer {
  if (typeof v !== 'string' || v.length !== 43) throw badEpk(`${name} must be 32 bytes of base64url`)
  try {
    return b64urlDecode(v, `epk ${name}`)
  } catch {
    throw badEpk(`${name} is not canonical base64url`)
  }
}

/** Reads the `epk` JWK into the provider's encoding, checking it suits our key (P-256 or X25519). */
export function epkBytes(epk: JsonObject, ourKind: KeyKind): Uint8Array {
  if (ourKind === 'p256') {
    if (epk.kty !== 'EC' || epk.crv !== 'P-256') throw badEpk('expected an EC P-256 key')
    const out = new Uint8Array(65)
    out[0] = 4
    out.set(coordinate(epk.x, 'x'), 1)
    out.set(coordinate(epk.y, 'y'), 33)
    return out
  }
  if (epk.kty !== 'OKP' || epk.crv !== 'X25519' || epk.y !== undefined) throw badEpk('expected an OKP X25519 key')
  return coordinate(epk.x, 'x')
}

const EMPTY = new Uint8Array(0)

function optionalB64(header: JsonObject, name: string): Uint8Array {
  const v = header[name]
  if (v === undefined) return EMPTY
  if (typeof v !== 'string' || v.length > 256)
    throw new DaneelError('ERR_JOSE_HEADER', 'JWE: ill-typed header member', { cause: new Error(name) })
  return b64urlDecode(v, name)
}

/**
 * Decrypts a parsed JWE with our key under `profile` (already selected by checkJweHeader). Lengths are
 * checked before any crypto: IV and tag must be exactly the algorithm's (RFC 7518 §5.2.2.2, §5.3).
 * `otherInfo` may pass the precomputed Concat KDF OtherInfo for the usual case of empty apu/apv.
 */
export function decryptJwe(
  provider: CryptoProvider,
  key: PrivateKey,
  jwe: ParsedJwe,
  profile: Profile,
  otherInfo?: Uint8Array,
): Uint8Array {
  if (jwe.iv.length !== profile.ivLength) throw invalid(`IV must be ${profile.ivLength} bytes`)
  if (jwe.tag.length !== profile.tagLength) throw invalid(`tag must be ${profile.tagLength} bytes`)
  let cek: Uint8Array
  if (profile.jweAlg === 'ECDH-ES') {
    if (jwe.encryptedKey.length !== 0) throw invalid('ECDH-ES has no encrypted key')
    const z = provider.agree(key, epkBytes(jwe.header.epk as JsonObject, key.kind))
    const apu = optionalB64(jwe.header, 'apu')
    const apv = optionalB64(jwe.header, 'apv')
    const info =
      otherInfo !== undefined && apu.length === 0 && apv.length === 0
        ? otherInfo
        : concatKdfOtherInfo(profile.enc, profile.cekLength * 8, apu, apv)
    cek = provider.concatKdf(z, profile.cekLength * 8, info)
    return provider.aesGcmDecrypt(cek, jwe.iv, jwe.ciphertext, jwe.tag, jwe.aad)
  }
  if (jwe.encryptedKey.length === 0) throw invalid('RSA-OAEP-256 needs an encrypted key')
  // RFC 7516 §11.5: when the key cannot be unwrapped, carry on with a random CEK so that the failure shows at
  // the tag check like any other, and the timing tells an attacker nothing about the RSA step.
  try {
    cek = provider.rsaOaepDecrypt(key, jwe.encryptedKey)
  } catch {
    cek = provider.randomBytes(profile.cekLength)
  }
  if (cek.length !== profile.cekLength) cek = provider.randomBytes(profile.cekLength)
  return provider.cbcHmacDecrypt(cek, jwe.iv, jwe.ciphertext, jwe.tag, jwe.aad)
}
