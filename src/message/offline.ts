/** Offline sender resolution: certificates given on the command line (`--cert`), matched to the signed x5u name. */
import { DaneelError } from '../errors.js'
import { parseCertificate } from '../x509/cert.js'
import { pemDecode } from '../x509/pem.js'
import type { ResolvedSender, SenderResolver } from './open.js'
import { normalizeName } from './x5u.js'

/**
 * A resolveSender over certificates the operator supplied: the sender named by the signed `x5u` must be a
 * dNSName of one of them (docs/contract.md "Wire format": the sender named by x5u must be the name in its certificate), else
 * ERR_JWS_SENDER. No dates are checked: these stand in for DANE-EE (usage 3) records, which ignore them
 * (RFC 7671 §5.1).
 */
export function certificateResolver(certsDer: readonly Uint8Array[]): {
  resolve: SenderResolver
  names: string[]
} {
  const byName = new Map<string, ResolvedSender>()
  for (const der of certsDer) {
    const cert = parseCertificate(der)
    for (const n of cert.dnsNames) byName.set(normalizeName(n), { spki: cert.spkiDer, auth: 'offline' })
  }
  const resolve = async (name: string): Promise<ResolvedSender> => {
    const known = byName.get(name)
    if (known === undefined)
      throw new DaneelError('ERR_JWS_SENDER', 'sender certificate does not match the signed name', {
        cause: new Error(`no certificate for ${name} (have ${[...byName.keys()].join(', ')})`),
      })
    return known
  }
  // every answer is known up front: the opener's synchronous path (a miss goes to resolve, which refuses it)
  return { names: [...byName.keys()], resolve: Object.assign(resolve, { peek: (name: string) => byName.get(name) }) }
}

/** The certificates in a file's bytes: one or more PEM CERTIFICATE blocks, or a single DER certificate. */
export function certificatesFromBytes(bytes: Uint8Array): Uint8Array[] {
  if (bytes[0] === 0x30) return [bytes]
  return pemDecode(Buffer.from(bytes).toString('utf8'), 'CERTIFICATE')
}

/** The SPKI of a recipient's certificate, which must name the recipient (ERR_CERT_NAME_MISMATCH otherwise). */
export function recipientSpkiFromCertificate(der: Uint8Array, recipient: string): Uint8Array {
  const cert = parseCertificate(der)
  const want = normalizeName(recipient)
  if (!cert.dnsNames.some((n) => normalizeName(n) === want)) {
    throw new DaneelError(
      'ERR_CERT_NAME_MISMATCH',
      `the certificate does not name ${want} (it names ${cert.dnsNames.join(', ') || 'nothing'})`,
    )
  }
  return cert.spkiDer
}
