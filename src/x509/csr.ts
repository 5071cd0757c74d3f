/** PKCS#10 certification requests (RFC 2986): build one for an identity, parse and verify one. */
import type { KeyObject } from 'node:crypto'
import * as asn1js from 'asn1js'
import { verifySigned } from './cert.js'
import { DerReader, derSequence, encodeTlv, isContext, rawOf, toDer } from './der.js'
import { buildExtensions, identityKeyUsage } from './ext-build.js'
import { readExtensions } from './extensions.js'
import { keyTypeOf, spkiOf } from './keys.js'
import { buildCnName, commonNameOf, readName } from './name.js'
import { OID } from './oids.js'
import { signedEnvelope } from './sign.js'
import { keyIdentifier } from './spki.js'

export interface CsrOptions {
  name: string
  key: KeyObject
  /** Ask for CA:TRUE, pathLen 0, keyCertSign (a NO_DNSSEC identity that anchors its own PKIX-CD chain). */
  ca?: boolean
}

/** A CSR (DER) with CN and SAN dNSName = name, the identity's key usage and basic constraints in extensionRequest. */
export function buildCsr(opts: CsrOptions): Uint8Array {
  keyTypeOf(opts.key)
  const spki = spkiOf(opts.key)
  const ext = buildExtensions({
    dnsNames: [opts.name],
    ski: keyIdentifier(spki),
    ca: opts.ca ?? false,
    ...(opts.ca === true ? { pathLen: 0 } : {}),
    keyUsage: identityKeyUsage(opts.key, opts.ca ?? false),
  })
  const attr = derSequence(toDer(new asn1js.ObjectIdentifier({ value: OID.extensionRequest })), encodeTlv(0x31, ext))
  const info = derSequence(toDer(new asn1js.Integer({ value: 0 })), toDer(buildCnName(opts.name)), spki, encodeTlv(0xa0, attr))
  return signedEnvelope(info, opts.key)
}

export interface Csr {
  readonly der: Uint8Array
  readonly subjectCN: string | undefined
  readonly dnsNames: string[]
  readonly spkiDer: Uint8Array
  /** True when the self-signature verifies with the enclosed key (proof of possession). */
  readonly signatureValid: boolean
}

/** Parses a CSR; ERR_CSR_INVALID when malformed. */
export function parseCsr(der: Uint8Array): Csr {
  const r = new DerReader('ERR_CSR_INVALID')
  const [info, alg, sig] = r.seq(r.parse(der, 'CSR'), 'CertificationRequest', 3, 3)
  const fields = r.seq(info, 'CertificationRequestInfo', 3, 4)
  if (r.smallInt(fields[0], 'version') !== 0) r.fail('CSR version is not 0')
  const subject = readName(r, fields[1], 'subject')
  r.seq(fields[2], 'subjectPKInfo', 2, 2)
  const spkiDer = rawOf(fields[2] as NonNullable<(typeof fields)[2]>)
  let dnsNames: string[] = []
  if (fields[3] !== undefined && isContext(fields[3], 0)) {
    for (const a of r.ctx(fields[3], 0, 'attributes')) {
      const [type, values] = r.seq(a, 'attribute', 2, 2)
      if (r.oid(type, 'attribute type') === OID.extensionRequest) {
        dnsNames = readExtensions(r, r.seq(values, 'extensionRequest', 1, 1, 17)[0]).dnsNames
      }
    }
  }
  const algOid = r.oid(r.seq(alg, 'signatureAlgorithm', 1, 2)[0], 'signatureAlgorithm')
  const { bytes } = r.bits(sig, 'signature')
  return {
    der: new Uint8Array(der),
    subjectCN: commonNameOf(subject),
    dnsNames,
    spkiDer,
    signatureValid: verifySigned(rawOf(info as NonNullable<typeof info>), algOid, bytes, spkiDer),
  }
}
