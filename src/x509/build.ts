/** Builds certificates (RFC 5280 §4.1): self-signed identities and small test CAs, signed by node:crypto. */
import { type KeyObject, randomBytes } from 'node:crypto'
import * as asn1js from 'asn1js'
import { type Certificate, parseCertificate } from './cert.js'
import { derSequence, encodeTlv, toDer } from './der.js'
import { buildExtensions, identityKeyUsage } from './ext-build.js'
import { keyTypeOf, spkiOf } from './keys.js'
import { buildCnName } from './name.js'
import type { KeyUsageName } from './oids.js'
import { signatureAlgorithmFor, signedEnvelope } from './sign.js'
import { keyIdentifier } from './spki.js'

const DAY_MS = 86_400_000
/** Backdating notBefore absorbs small clock differences between issuer and verifier (PKIX usages check dates). */
const BACKDATE_MS = 5 * 60_000

export interface CertificateSpec {
  /** Subject CN; also the SAN dNSName unless `dnsNames` says otherwise. */
  subjectCN: string
  dnsNames?: readonly string[]
  /** The subject's public key (SPKI DER) or a key object to take it from. */
  subjectKey: KeyObject | Uint8Array
  /** Signing key; the issuer's certificate (absent: self-signed by `issuerKey`, which must be the subject's key). */
  issuerKey: KeyObject
  issuerCert?: Certificate
  ca?: boolean
  pathLen?: number
  keyUsage?: readonly KeyUsageName[]
  notBefore: number
  notAfter: number
  serial?: Uint8Array
}

/** The general builder behind buildSelfSignedCertificate and issueCertificate. Returns the DER. */
export function buildCertificate(spec: CertificateSpec): Uint8Array {
  const spki = spec.subjectKey instanceof Uint8Array ? spec.subjectKey : spkiOf(spec.subjectKey)
  const ski = keyIdentifier(spki)
  const issuerName = spec.issuerCert === undefined ? toDer(buildCnName(spec.subjectCN)) : spec.issuerCert.subjectDer
  const aki = spec.issuerCert === undefined ? ski : (spec.issuerCert.ski ?? keyIdentifier(spec.issuerCert.spkiDer))
  if (!(spec.notAfter > spec.notBefore)) throw new RangeError('certificate validity must end after it starts')
  const serial = spec.serial ?? randomSerial()
  const ext = buildExtensions({
    dnsNames: spec.dnsNames ?? [spec.subjectCN],
    ski,
    aki,
    ca: spec.ca ?? false,
    ...(spec.pathLen === undefined ? {} : { pathLen: spec.pathLen }),
    keyUsage: spec.keyUsage ?? identityKeyUsage(spec.subjectKey instanceof Uint8Array ? undefined : spec.subjectKey, spec.ca ?? false),
  })
  const tbs = derSequence(
    encodeTlv(0xa0, toDer(new asn1js.Integer({ value: 2 }))), // [0] EXPLICIT version v3
    toDer(new asn1js.Integer({ valueHex: serial })),
    toDer(signatureAlgorithmFor(spec.issuerKey)),
    issuerName,
    derSequence(encodeTime(spec.notBefore), encodeTime(spec.notAfter)),
    toDer(buildCnName(spec.subjectCN)),
    spki,
    encodeTlv(0xa3, ext), // [3] EXPLICIT Extensions
  )
  return signedEnvelope(tbs, spec.issuerKey)
}

export interface SelfSignedOptions {
  /** The identity name: CN and SAN dNSName. */
  name: string
  key: KeyObject
  /** Validity in days (default 365). */
  days?: number
  /** NO_DNSSEC mode: the identity anchors its own PKIX-CD chain, so CA:TRUE, pathLen 0 and keyCertSign. */
  ca?: boolean
  /** Issue time, ms since the epoch (default Date.now()). */
  now?: number
}

/** A self-signed identity certificate (DER): CN and SAN = name, SKI method 1, AKI keyid = SKI. */
export function buildSelfSignedCertificate(opts: SelfSignedOptions): Uint8Array {
  keyTypeOf(opts.key)
  const now = opts.now ?? Date.now()
  const days = opts.days ?? 365
  if (!Number.isInteger(days) || days < 1 || days > 36500) throw new RangeError(`days must be a whole number from 1 to 36500, not ${days}`)
  return buildCertificate({
    subjectCN: opts.name,
    subjectKey: opts.key,
    issuerKey: opts.key,
    ca: opts.ca ?? false,
    ...(opts.ca === true ? { pathLen: 0 } : {}),
    notBefore: now - BACKDATE_MS,
    notAfter: now + days * DAY_MS,
  })
}

export interface IssueOptions {
  subjectCN: string
  dnsNames?: readonly string[]
  subjectKey: KeyObject | Uint8Array
  issuerCert: Certificate
  issuerKey: KeyObject
  ca?: boolean
  pathLen?: number
  keyUsage?: readonly KeyUsageName[]
  days?: number
  now?: number
}

/** A certificate signed by a CA key (for PKIX-CD test CAs and intermediates). Returns the parsed certificate. */
export function issueCertificate(opts: IssueOptions): Certificate {
  const now = opts.now ?? Date.now()
  const der = buildCertificate({
    subjectCN: opts.subjectCN,
    ...(opts.dnsNames === undefined ? {} : { dnsNames: opts.dnsNames }),
    subjectKey: opts.subjectKey,
    issuerKey: opts.issuerKey,
    issuerCert: opts.issuerCert,
    ...(opts.ca === undefined ? {} : { ca: opts.ca }),
    ...(opts.pathLen === undefined ? {} : { pathLen: opts.pathLen }),
    ...(opts.keyUsage === undefined ? {} : { keyUsage: opts.keyUsage }),
    notBefore: now - BACKDATE_MS,
    notAfter: now + (opts.days ?? 365) * DAY_MS,
  })
  return parseCertificate(der)
}

/** 16 random bytes, positive and minimally encoded (RFC 5280 §4.1.2.2: at most 20 octets, positive). */
function randomSerial(): Uint8Array {
  const s = new Uint8Array(randomBytes(16))
  s[0] = ((s[0] as number) & 0x7f) | 0x40
  return s
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Zulu. */
function encodeTime(ms: number): Uint8Array {
  const d = new Date(Math.floor(ms / 1000) * 1000)
  return d.getUTCFullYear() < 2050 ? toDer(new asn1js.UTCTime({ valueDate: d })) : toDer(new asn1js.GeneralizedTime({ valueDate: d }))
}
