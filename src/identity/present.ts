/** How an identity is presented to operators: the default TLSA parameters and the PKIX-CD CA URL (docs/contract.md). */
import { identityDomain } from '../dane/names.js'
import type { TlsaMatchingType, TlsaSelector, TlsaUsage } from '../dane/types.js'
import type { Certificate } from '../x509/cert.js'
import { toHex } from '../x509/hex.js'

/**
 * The record to publish: the full certificate (`x 0 0`), because peers fetch the key from DNS to encrypt to it
 * (docs/contract.md "TLSA"); usage 3 (DANE-EE) under DNSSEC, usage 4 (the original system's PKIX-CD) with NO_DNSSEC.
 */
export function defaultTlsaParams(noDnssec: boolean): { usage: TlsaUsage; selector: TlsaSelector; matchingType: TlsaMatchingType } {
  return { usage: noDnssec ? 4 : 3, selector: 0, matchingType: 0 }
}

/**
 * What a digest-only record (`3 1 1`, or `4 1 1` under PKIX-CD) is good for, said the same way by `identity show`
 * and `identity check`: it lets a peer verify our signatures, but a peer that must encrypt to us needs our key
 * itself, which only a full record (`3 0 0` or `3 1 0`) carries (docs/contract.md "TLSA").
 */
export const DIGEST_ONLY_NOTE =
  'usable for verifying our signatures, but not for peers that must encrypt to us (they need the key itself: publish the full record)'

/** `https://device.<domain>/.well-known/ca/<keyid>.pem`, keyid = the AKI as lower-case hex bytes joined by '-'. */
export function pkixCdCaUrl(name: string, cert: Certificate): string | undefined {
  if (cert.aki === undefined) return undefined
  return `https://device.${identityDomain(name)}/.well-known/ca/${toHex(cert.aki, '-')}.pem`
}
