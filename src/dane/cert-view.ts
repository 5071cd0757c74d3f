/** The certificate facts PKIX-CD and DANE discovery need (RFC 5280 §4.2.1), from src/x509/cert.ts. */
import { bytesEqual } from '../bytes.js'
import { DaneelError } from '../errors.js'
import { type Certificate, parseCertificate, verifyCertificateSignature } from '../x509/cert.js'

export interface CertView {
  der: Uint8Array
  /** The parsed certificate (parsing costs milliseconds: keep views, not DER, in caches). */
  cert: Certificate
  dnsNames: string[]
  ski: Uint8Array | undefined
  aki: Uint8Array | undefined
  ca: boolean
  pathLen: number | undefined
  /** keyUsage keyCertSign; undefined when the certificate has no keyUsage extension. */
  keyCertSign: boolean | undefined
  notBefore: number
  notAfter: number
  spkiDer: Uint8Array
  /** Subject equals issuer (a self-issued certificate ends a PKIX-CD chain). */
  selfIssued: boolean
  /** OIDs of critical extensions we do not understand (RFC 5280 §4.2: such a certificate must be rejected). */
  unknownCritical: string[]
}

/** True when `issuer`'s key verifies `child`'s signature. */
export function isIssuedBy(child: CertView, issuer: CertView): boolean {
  try {
    return verifyCertificateSignature(child.cert, issuer.spkiDer) === true
  } catch {
    return false
  }
}

/** Parses DER into a CertView, or throws ERR_CERT_INVALID. */
export function viewCertificate(der: Uint8Array): CertView {
  let cert: Certificate
  try {
    cert = parseCertificate(der)
  } catch (err) {
    if (err instanceof DaneelError) throw err
    throw new DaneelError('ERR_CERT_INVALID', 'not a certificate', { cause: err })
  }
  const selfIssued = bytesEqual(cert.subjectDer, cert.issuerDer)
  const keyCertSign = cert.keyUsage === undefined ? undefined : cert.keyUsage.has('keyCertSign')
  return {
    der,
    cert,
    dnsNames: [...cert.dnsNames],
    ski: cert.ski ?? undefined,
    aki: cert.aki ?? undefined,
    ca: cert.basicConstraints?.ca === true,
    pathLen: cert.basicConstraints?.pathLen ?? undefined,
    keyCertSign,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    spkiDer: cert.spkiDer,
    selfIssued,
    unknownCritical: cert.unknownCriticalExtensions,
  }
}
