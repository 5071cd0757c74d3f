/** Signing for certificates and CSRs: the AlgorithmIdentifier per key type (RFC 5758 §3.2, RFC 8410 §3, RFC 4055 §5) and the signature. */
import { sign as cryptoSign, type KeyObject } from 'node:crypto'
import * as asn1js from 'asn1js'
import { derSequence, toDer } from './der.js'
import { keyTypeOf } from './keys.js'
import { OID } from './oids.js'

/** AlgorithmIdentifier for signing with `key`: ECDSA and Ed25519 omit parameters; RSA carries NULL. */
export function signatureAlgorithmFor(key: KeyObject): asn1js.Sequence {
  switch (keyTypeOf(key)) {
    case 'p256':
      return new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.ecdsaWithSha256 })] })
    case 'ed25519':
      return new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.ed25519 })] })
    case 'rsa':
      return new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.sha256WithRsa }), new asn1js.Null()] })
  }
}

/** Signs `data` with `key`: ECDSA P-256/SHA-256 (DER signature), Ed25519, or RSA PKCS#1 v1.5 SHA-256. */
export function signBytes(key: KeyObject, data: Uint8Array): Uint8Array {
  switch (keyTypeOf(key)) {
    case 'p256':
      return new Uint8Array(cryptoSign('sha256', data, { key, dsaEncoding: 'der' }))
    case 'ed25519':
      return new Uint8Array(cryptoSign(null, data, key))
    case 'rsa':
      return new Uint8Array(cryptoSign('sha256', data, key))
  }
}

/** SEQUENCE { tbs, algorithm, BIT STRING signature }: the shape of both Certificate and CertificationRequest. */
export function signedEnvelope(tbsDer: Uint8Array, key: KeyObject): Uint8Array {
  const sig = signBytes(key, tbsDer)
  // splice the TBS bytes verbatim: re-encoding a parsed structure could change the bytes that were signed
  return derSequence(tbsDer, toDer(signatureAlgorithmFor(key)), toDer(new asn1js.BitString({ valueHex: sig })))
}
