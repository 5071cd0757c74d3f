/** X.509 certificates (RFC 5280 §4.1): parse the fields DANE and PKIX-CD need; verify a signature with node:crypto. */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { DaneelError } from '../errors.js'
import { DerReader, isContext, rawOf } from './der.js'
import { type BasicConstraints, readExtensions } from './extensions.js'
import { toHex } from './hex.js'
import { commonNameOf, formatName, readName } from './name.js'
import { type KeyUsageName, SIGNATURE_ALGORITHMS } from './oids.js'
import { type KeyType, spkiKeyType } from './spki.js'

export interface Certificate {
  readonly der: Uint8Array
  /** The signed TBSCertificate bytes. */
  readonly tbsDer: Uint8Array
  readonly version: number
  /** Serial number as lower-case hex of its content octets. */
  readonly serialHex: string
  readonly issuerDer: Uint8Array
  readonly subjectDer: Uint8Array
  /** Display forms ("CN=..., O=..."). */
  readonly issuer: string
  readonly subject: string
  readonly subjectCN: string | undefined
  readonly dnsNames: string[]
  readonly ski?: Uint8Array
  /** authorityKeyIdentifier keyIdentifier. */
  readonly aki?: Uint8Array
  readonly basicConstraints?: BasicConstraints
  readonly keyUsage?: Set<KeyUsageName>
  readonly extKeyUsage?: string[]
  readonly unknownCriticalExtensions: string[]
  /** Validity, ms since the epoch. */
  readonly notBefore: number
  readonly notAfter: number
  /** SubjectPublicKeyInfo DER (TLSA selector 1). */
  readonly spkiDer: Uint8Array
  readonly keyType: KeyType
  readonly signatureAlgorithm: { readonly oid: string; readonly name: string }
  readonly signature: Uint8Array
}

/** Parses a DER certificate. Anything malformed is ERR_CERT_INVALID (the DER detail is in the message). */
export function parseCertificate(der: Uint8Array): Certificate {
  const r = new DerReader('ERR_CERT_INVALID')
  const top = r.seq(r.parse(der, 'certificate'), 'Certificate', 3, 3)
  const [tbs, sigAlg, sigValue] = top as [NonNullable<(typeof top)[0]>, (typeof top)[1], (typeof top)[2]]
  const fields = r.seq(tbs, 'TBSCertificate', 6, 10)
  let i = 0
  let version = 1
  if (fields[0] !== undefined && isContext(fields[0], 0)) {
    version = r.smallInt(r.ctx(fields[0], 0, 'version')[0], 'version') + 1
    i = 1
  }
  if (version < 1 || version > 3) r.fail(`unsupported version ${version}`)
  const serial = r.intBytes(fields[i], 'serialNumber')
  const innerAlg = r.oid(r.seq(fields[i + 1], 'signature', 1, 2)[0], 'signature algorithm')
  const issuerBlock = fields[i + 2]
  const issuerAttrs = readName(r, issuerBlock, 'issuer')
  const validity = r.seq(fields[i + 3], 'validity', 2, 2)
  const subjectBlock = fields[i + 4]
  const subjectAttrs = readName(r, subjectBlock, 'subject')
  const spkiBlock = fields[i + 5]
  r.seq(spkiBlock, 'subjectPublicKeyInfo', 2, 2)
  let extensions = readExtensionsNone()
  for (const f of fields.slice(i + 6)) {
    if (isContext(f, 3)) {
      if (version !== 3) r.fail('extensions in a pre-v3 certificate')
      extensions = readExtensions(r, r.ctx(f, 3, 'extensions')[0])
    } else if (!isContext(f, 1) && !isContext(f, 2)) r.fail('unexpected field after subjectPublicKeyInfo')
  }
  const outerAlg = r.oid(r.seq(sigAlg, 'signatureAlgorithm', 1, 2)[0], 'signatureAlgorithm')
  // RFC 5280 §4.1.1.2: the outer algorithm MUST equal the signed one, else a signature could be reinterpreted
  if (outerAlg !== innerAlg) r.fail('signatureAlgorithm differs from TBSCertificate.signature')
  const sig = r.bits(sigValue, 'signatureValue')
  if (sig.unused !== 0) r.fail('signatureValue has unused bits')
  const spkiDer = rawOf(spkiBlock as NonNullable<typeof spkiBlock>)
  const cert: Certificate = {
    der: new Uint8Array(der),
    tbsDer: rawOf(tbs),
    version,
    serialHex: toHex(serial),
    issuerDer: rawOf(issuerBlock as NonNullable<typeof issuerBlock>),
    subjectDer: rawOf(subjectBlock as NonNullable<typeof subjectBlock>),
    issuer: formatName(issuerAttrs),
    subject: formatName(subjectAttrs),
    subjectCN: commonNameOf(subjectAttrs),
    dnsNames: extensions.dnsNames,
    ...(extensions.ski === undefined ? {} : { ski: extensions.ski }),
    ...(extensions.aki === undefined ? {} : { aki: extensions.aki }),
    ...(extensions.basicConstraints === undefined ? {} : { basicConstraints: extensions.basicConstraints }),
    ...(extensions.keyUsage === undefined ? {} : { keyUsage: extensions.keyUsage }),
    ...(extensions.extKeyUsage === undefined ? {} : { extKeyUsage: extensions.extKeyUsage }),
    unknownCriticalExtensions: extensions.unknownCritical,
    notBefore: r.time(validity[0], 'notBefore'),
    notAfter: r.time(validity[1], 'notAfter'),
    spkiDer,
    keyType: spkiKeyType(spkiDer),
    signatureAlgorithm: { oid: outerAlg, name: SIGNATURE_ALGORITHMS[outerAlg]?.name ?? outerAlg },
    signature: sig.bytes,
  }
  return cert
}

function readExtensionsNone(): ReturnType<typeof readExtensions> {
  return { dnsNames: [], unknownCritical: [] }
}

/**
 * True when `cert` is signed by the key in `issuerSpkiDer` (ECDSA P-256/384 with SHA-2, Ed25519, RSA PKCS#1 v1.5
 * with SHA-2). Unknown algorithms, a key of the wrong family or a malformed key give false, never a throw.
 */
export function verifyCertificateSignature(cert: Certificate, issuerSpkiDer: Uint8Array): boolean {
  return verifySigned(cert.tbsDer, cert.signatureAlgorithm.oid, cert.signature, issuerSpkiDer)
}

/** Verifies `signature` over `data` by algorithm OID (shared by certificates and CSRs). */
export function verifySigned(data: Uint8Array, algOid: string, signature: Uint8Array, spkiDer: Uint8Array): boolean {
  const alg = SIGNATURE_ALGORITHMS[algOid]
  if (alg === undefined) return false
  try {
    const key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' })
    const type = key.asymmetricKeyType
    if ((alg.key === 'ec' && type !== 'ec') || (alg.key === 'rsa' && type !== 'rsa') || (alg.key === 'ed25519' && type !== 'ed25519'))
      return false
    return cryptoVerify(alg.hash, data, alg.key === 'ec' ? { key, dsaEncoding: 'der' } : key, signature)
  } catch {
    return false
  }
}

/** Whether `der` parses as a certificate (for quick sniffing; use parseCertificate for errors). */
export function isCertificate(der: Uint8Array): boolean {
  try {
    parseCertificate(der)
    return true
  } catch (err) {
    if (err instanceof DaneelError) return false
    throw err
  }
}
