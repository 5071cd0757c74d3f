/** What an operator must publish for an identity: the TLSA record, and in NO_DNSSEC mode the PKIX-CD CA URL and file. */
import { keyIdString, pkixCdUrl } from '../../src/dane/pkix-cd.js'
import { DEFAULT_TLSA_TTL, formatTlsaZoneLine, makeTlsaRecord } from '../../src/dane/tlsa.js'
import type { TlsaRecord } from '../../src/dane/types.js'
import { defaultTlsaParams } from '../../src/identity/present.js'
import type { LocalIdentity } from './observe.js'

/** The record to publish, as `daneel identity tlsa` prints it: `3 0 0` (peers fetch the key), `4 0 0` with NO_DNSSEC. */
export function identityRecord(certDer: Uint8Array, noDnssec: boolean): TlsaRecord {
  const p = defaultTlsaParams(noDnssec)
  return makeTlsaRecord(certDer, p.usage, p.selector, p.matchingType)
}

/** Zone-file lines and instructions, one per line. */
export function publishAdvice(
  name: string,
  local: Pick<LocalIdentity, 'certDer' | 'aki' | 'selfIssued' | 'ca'>,
  noDnssec: boolean,
  ttl = DEFAULT_TLSA_TTL,
): string[] {
  const out = [formatTlsaZoneLine(name, identityRecord(local.certDer, noDnssec), ttl)]
  if (noDnssec) {
    if (local.aki === undefined) {
      out.push('PKIX-CD: the certificate has no authorityKeyIdentifier, so no CA URL can be derived; reissue it')
    } else {
      out.push(`PKIX-CD: serve the issuing CA certificate (PEM, key id ${keyIdString(local.aki)}) at ${pkixCdUrl(name, local.aki)}`)
      if (local.selfIssued) {
        out.push(
          local.ca
            ? `  this identity is self-issued: serve its own certificate (${name}.crt.pem) at that URL`
            : '  this identity is self-issued without CA:TRUE: it cannot anchor its own PKIX-CD chain; recreate it with NO_DNSSEC set',
        )
      }
    }
  }
  return out
}
