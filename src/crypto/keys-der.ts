/** SPKI (RFC 5280 §4.1.2.7) and PKCS#8 (RFC 5958) for P-256, Ed25519, X25519 and RSA, without node:crypto. */

import { concatBytes } from '../bytes.js'
import { DaneelError } from '../errors.js'
import { children, contents, encodeTlv, encodeUint, expectTag, hex, readTop, readUint, type Tlv } from './der.js'
import type { KeyKind } from './provider.js'
import { type RsaPrivate, type RsaPublic, rsaPublic } from './rsa.js'

// Algorithm OIDs as DER content bytes (hex).
const OID_EC = '2a8648ce3d0201' // id-ecPublicKey (RFC 5480)
const OID_P256 = '2a8648ce3d030107' // prime256v1 / secp256r1
const OID_ED25519 = '2b6570' // RFC 8410
const OID_X25519 = '2b656e' // RFC 8410
const OID_RSA = '2a864886f70d010101' // rsaEncryption (RFC 8017)

export interface ParsedPublic {
  kind: KeyKind
  /** P-256: uncompressed point; Ed25519/X25519: 32 bytes; RSA: empty (see rsa). */
  raw: Uint8Array
  rsa?: RsaPublic
}
export interface ParsedPrivate {
  kind: KeyKind
  secret: Uint8Array
  rsa?: RsaPrivate
}

function algorithm(der: Uint8Array, alg: Tlv | undefined): KeyKind {
  const parts = children(der, expectTag(alg, 0x30))
  const oid = hex(contents(der, expectTag(parts[0], 0x06)))
  if (oid === OID_EC) {
    if (hex(contents(der, expectTag(parts[1], 0x06))) !== OID_P256)
      throw new DaneelError('ERR_KEY_UNSUPPORTED', 'only the P-256 curve is supported')
    return 'p256'
  }
  if (oid === OID_ED25519 || oid === OID_X25519) {
    if (parts.length !== 1) throw new DaneelError('ERR_KEY_INVALID', 'RFC 8410 keys have no algorithm parameters')
    return oid === OID_ED25519 ? 'ed25519' : 'x25519'
  }
  if (oid === OID_RSA) return 'rsa'
  throw new DaneelError('ERR_KEY_UNSUPPORTED', 'unsupported key algorithm')
}

function checkRsaSize(key: RsaPublic): void {
  if (key.bits < 2048 || key.bits > 8192) throw new DaneelError('ERR_KEY_UNSUPPORTED', 'RSA keys must have 2048 to 8192 bits')
}

export function parseSpki(der: Uint8Array): ParsedPublic {
  const [alg, bits, extra] = children(der, readTop(der, 0x30))
  if (extra !== undefined) throw new DaneelError('ERR_KEY_INVALID', 'trailing SPKI fields')
  const kind = algorithm(der, alg)
  const bs = expectTag(bits, 0x03)
  if (der[bs.start] !== 0) throw new DaneelError('ERR_KEY_INVALID', 'BIT STRING with unused bits')
  const key = der.subarray(bs.start + 1, bs.end)
  if (kind === 'p256') {
    if (key.length !== 65 || key[0] !== 4) throw new DaneelError('ERR_KEY_INVALID', 'P-256 key must be an uncompressed point')
    return { kind, raw: key.slice() }
  }
  if (kind === 'rsa') {
    const [n, e, more] = children(key, readTop(key, 0x30))
    if (more !== undefined) throw new DaneelError('ERR_KEY_INVALID', 'trailing RSAPublicKey fields')
    const rsa = rsaPublic(readUint(key, n), readUint(key, e))
    checkRsaSize(rsa)
    return { kind, raw: new Uint8Array(0), rsa }
  }
  if (key.length !== 32) throw new DaneelError('ERR_KEY_INVALID', 'RFC 8410 keys are 32 bytes')
  return { kind, raw: key.slice() }
}

export function parsePkcs8(der: Uint8Array): ParsedPrivate {
  const [version, alg, pk] = children(der, readTop(der, 0x30))
  const v = readUint(der, version)
  if (v !== 0n && v !== 1n) throw new DaneelError('ERR_KEY_INVALID', 'unknown PKCS#8 version')
  const kind = algorithm(der, alg)
  const inner = contents(der, expectTag(pk, 0x04))
  if (kind === 'p256') {
    // ECPrivateKey (RFC 5915 §3): version 1, the scalar as a 32-byte OCTET STRING, optional params and public key.
    const [ver, d] = children(inner, readTop(inner, 0x30))
    if (readUint(inner, ver) !== 1n) throw new DaneelError('ERR_KEY_INVALID', 'unknown ECPrivateKey version')
    const secret = contents(inner, expectTag(d, 0x04))
    if (secret.length !== 32) throw new DaneelError('ERR_KEY_INVALID', 'P-256 private key must be 32 bytes')
    return { kind, secret: secret.slice() }
  }
  if (kind === 'rsa') {
    const f = children(inner, readTop(inner, 0x30))
    const [n, e, d, p, q, dp, dq, qi] = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => readUint(inner, f[i])) as [
      bigint,
      bigint,
      bigint,
      bigint,
      bigint,
      bigint,
      bigint,
      bigint,
    ]
    const pubPart = rsaPublic(n, e)
    checkRsaSize(pubPart)
    if (p * q !== n) throw new DaneelError('ERR_KEY_INVALID', 'RSA key is inconsistent')
    return { kind, secret: new Uint8Array(0), rsa: { ...pubPart, d, p, q, dp, dq, qi } }
  }
  // CurvePrivateKey (RFC 8410 §7): an OCTET STRING inside the OCTET STRING.
  const seed = contents(inner, readTop(inner, 0x04))
  if (seed.length !== 32) throw new DaneelError('ERR_KEY_INVALID', 'RFC 8410 private keys are 32 bytes')
  return { kind, secret: seed.slice() }
}

const PREFIX: Record<'p256' | 'ed25519' | 'x25519', string> = {
  p256: '3059301306072a8648ce3d020106082a8648ce3d030107034200',
  ed25519: '302a300506032b6570032100',
  x25519: '302a300506032b656e032100',
}

/** SPKI DER for a raw public key (or an RSA key). */
export function spkiOf(kind: KeyKind, raw: Uint8Array, rsa?: RsaPublic): Uint8Array {
  if (kind === 'rsa') {
    if (rsa === undefined) throw new DaneelError('ERR_KEY_INVALID', 'missing RSA key')
    const body = encodeTlv(0x30, concatBytes(encodeUint(rsa.n), encodeUint(rsa.e)))
    const alg = Uint8Array.from(Buffer.from(`300d06092a864886f70d0101010500`, 'hex'))
    return encodeTlv(0x30, concatBytes(alg, encodeTlv(0x03, concatBytes(Uint8Array.of(0), body))))
  }
  return concatBytes(Uint8Array.from(Buffer.from(PREFIX[kind], 'hex')), raw)
}
