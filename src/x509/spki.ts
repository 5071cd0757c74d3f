/** SubjectPublicKeyInfo (RFC 5280 §4.1.2.7, RFC 5480, RFC 8410): key type, SKI by RFC 5280 §4.2.1.2 method 1. */
import { createHash } from 'node:crypto'
import { DerReader } from './der.js'
import { OID } from './oids.js'

/** Key families daneel issues; 'other' is a parsed key we do not issue (P-384, RSA-PSS, ...). */
export type KeyType = 'p256' | 'ed25519' | 'rsa' | 'other'

/** The key type of an SPKI (ERR_CERT_INVALID when it is not an SPKI at all). */
export function spkiKeyType(spkiDer: Uint8Array): KeyType {
  const r = new DerReader('ERR_CERT_INVALID')
  const [alg] = r.seq(r.parse(spkiDer, 'subjectPublicKeyInfo'), 'subjectPublicKeyInfo', 2, 2)
  const algItems = r.seq(alg, 'SPKI algorithm', 1, 2)
  const oid = r.oid(algItems[0], 'SPKI algorithm')
  if (oid === OID.ed25519) return 'ed25519'
  if (oid === OID.rsaEncryption) return 'rsa'
  if (oid === OID.ecPublicKey && algItems[1] !== undefined && algItems[1].idBlock.tagNumber === 6) {
    return r.oid(algItems[1], 'EC curve') === OID.prime256v1 ? 'p256' : 'other'
  }
  return 'other'
}

/** The subjectPublicKey BIT STRING content of an SPKI. */
export function spkiPublicKeyBits(spkiDer: Uint8Array): Uint8Array {
  const r = new DerReader('ERR_CERT_INVALID')
  const [, bits] = r.seq(r.parse(spkiDer, 'subjectPublicKeyInfo'), 'subjectPublicKeyInfo', 2, 2)
  return r.bits(bits, 'subjectPublicKey').bytes
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value (no tag, length or unused-bits octet). */
export function keyIdentifier(spkiDer: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(spkiPublicKeyBits(spkiDer)).digest())
}

/** A P-256 SPKI in the one DER form RFC 5480 allows for a named curve, up to the 04 of an uncompressed point. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex')
/** P-256's field prime and curve coefficient b (FIPS 186-4 D.1.2.3); a = -3. */
const P256_P = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn

/**
 * Whether `spki` is a P-256 public key whose point lies on the curve (SEC 1 §3.2.2.1: coordinates below p,
 * y² = x³ − 3x + b; the cofactor is 1, so no subgroup check is left). A few microseconds, where OpenSSL 3's
 * decoder (createPublicKey) takes about 200: a gateway checks every published key of every device it meets.
 */
export function isP256Spki(spki: Uint8Array): boolean {
  if (spki.length !== P256_SPKI_PREFIX.length + 64 || !P256_SPKI_PREFIX.equals(spki.subarray(0, P256_SPKI_PREFIX.length))) return false
  const at = P256_SPKI_PREFIX.length
  const x = BigInt(`0x${Buffer.from(spki.subarray(at, at + 32)).toString('hex')}`)
  const y = BigInt(`0x${Buffer.from(spki.subarray(at + 32, at + 64)).toString('hex')}`)
  if (x >= P256_P || y >= P256_P) return false
  return (y * y - (x * x * x - 3n * x + P256_B)) % P256_P === 0n
}
