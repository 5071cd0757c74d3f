/** What an operator must publish for an identity: the TLSA record, and in NO_DNSSEC mode the PKIX-CD CA URL and file. */
import { keyIdString, pkixCdUrl } from '../../src/dane/pkix-cd.js'
import { formatTlsaZoneLine, makeTlsaRecord } from '../../src/dane/tlsa.js'
import type { TlsaRecord } from '../../src/dane/types.js'
import { parseCertificate } from '../../src/x509/cert.js'
import type { LocalIdentity } from './observe.js'

/**
 * The record a peer needs: it must fetch the key to encrypt to us, so `3 1 0` (the SPKI, 91 bytes for P-256);
 * `3 0 0` for RSA (the original system's profile); in NO_DNSSEC mode `4 0 0` (the full certificate, PKIX-CD).
 */
export function identityRecord(certDer: Uint8Array, noDnssec: boolean): TlsaRecord {
  if (noDnssec) return makeTlsaRecord(certDer, 4, 0, 0)
  const rsa = parseCertificate(certDer).keyType === 'rsa'
  return makeTlsaRecord(certDer, 3, rsa ? 0 : 1, 0)
}

/** Zone-file lines and instructions, one per line. */
export function publishAdvice(name: string, local: Pick<LocalIdentity, 'certDer' | 'aki' | 'selfIssued' | 'ca'>, noDnssec: boolean, ttl = 300): string[] {
  const out = [formatTlsaZoneLine(name, identityRecord(local.certDer, noDnssec), ttl)]
  if (noDnssec) {
    if (local.aki === undefined) {
      out.push('PKIX-CD: the certificate has no authorityKeyIdentifier, so no CA URL can be derived; reissue it')
    } else {
      out.push(`PKIX-CD: serve the issuing CA certificate (PEM, key id ${keyIdString(local.aki)}) at ${pkixCdUrl(name, local.aki)}`)
      if (local.selfIssued) {
        out.push(local.ca
          ? `  this identity is self-issued: serve its own certificate (${name}.crt.pem) at that URL`
          : '  this identity is self-issued without CA:TRUE: it cannot anchor its own PKIX-CD chain; recreate it with NO_DNSSEC set')
      }
    }
  }
  return out
}
