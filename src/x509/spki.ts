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
