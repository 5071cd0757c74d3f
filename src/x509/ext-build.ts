/** Encodes the extensions daneel writes (RFC 5280 §4.2.1): BasicConstraints, KeyUsage, SAN, SKI, AKI. */
import type { KeyObject } from 'node:crypto'
import * as asn1js from 'asn1js'
import { DaneelError } from '../errors.js'
import { derSequence, encodeTlv, toDer } from './der.js'
import { KEY_USAGE_BITS, type KeyUsageName, OID } from './oids.js'

export interface ExtensionSpec {
  dnsNames: readonly string[]
  ski?: Uint8Array
  aki?: Uint8Array
  ca: boolean
  pathLen?: number
  keyUsage: readonly KeyUsageName[]
}

/**
 * Key usage for an identity: it signs (JWS) and is the target of encryption, which is key agreement for EC
 * (ECDH-ES) and key encipherment for RSA (RSA-OAEP). A self-anchored NO_DNSSEC identity also signs certificates.
 */
export function identityKeyUsage(key: KeyObject | undefined, ca: boolean): KeyUsageName[] {
  const ku: KeyUsageName[] = ['digitalSignature']
  if (key?.asymmetricKeyType === 'ec') ku.push('keyAgreement')
  if (key?.asymmetricKeyType === 'rsa') ku.push('keyEncipherment')
  if (ca) ku.push('keyCertSign')
  return ku
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  const parts = [toDer(new asn1js.ObjectIdentifier({ value: oid }))]
  if (critical) parts.push(toDer(new asn1js.Boolean({ value: true })))
  parts.push(encodeTlv(0x04, value))
  return derSequence(...parts)
}

/** KeyUsage as a named bit list: trailing zero bits dropped (X.690 §11.2.2), so the encoding is DER. */
export function encodeKeyUsage(names: readonly KeyUsageName[]): Uint8Array {
  const bits = names.map((n) => KEY_USAGE_BITS.indexOf(n))
  const hi = Math.max(...bits)
  const bytes = new Uint8Array((hi >> 3) + 1)
  for (const b of bits) bytes[b >> 3] = (bytes[b >> 3] as number) | (0x80 >> (b & 7))
  const unused = bytes.length * 8 - (hi + 1)
  return toDer(new asn1js.BitString({ valueHex: bytes, unusedBits: unused }))
}

/** The Extensions SEQUENCE (content of TBSCertificate [3], or of a CSR's extensionRequest). */
export function buildExtensions(spec: ExtensionSpec): Uint8Array {
  for (const n of spec.dnsNames) {
    if (!/^[\x21-\x7e]+$/.test(n)) throw new DaneelError('ERR_NAME_INVALID', `dNSName must be printable ASCII: '${n}'`)
  }
  const bc = spec.ca
    ? derSequence(
        toDer(new asn1js.Boolean({ value: true })),
        ...(spec.pathLen === undefined ? [] : [toDer(new asn1js.Integer({ value: spec.pathLen }))]),
      )
    : derSequence() // cA DEFAULT FALSE is omitted in DER
  const exts = [extension(OID.basicConstraints, true, bc), extension(OID.keyUsage, true, encodeKeyUsage(spec.keyUsage))]
  if (spec.dnsNames.length > 0) {
    const names = spec.dnsNames.map((n) => encodeTlv(0x82, new TextEncoder().encode(n))) // [2] IMPLICIT IA5String
    exts.push(extension(OID.subjectAltName, false, derSequence(...names)))
  }
  if (spec.ski !== undefined) exts.push(extension(OID.subjectKeyIdentifier, false, encodeTlv(0x04, spec.ski)))
  if (spec.aki !== undefined) exts.push(extension(OID.authorityKeyIdentifier, false, derSequence(encodeTlv(0x80, spec.aki))))
  return derSequence(...exts)
}
