/** The TLSA record model (RFC 6698 §2.1, RFC 7218 mnemonics); usage 4 is the original system's PKIX-CD code point. */

/** 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE, 4 PKIX-CD (private use by the original system). */
export type TlsaUsage = 0 | 1 | 2 | 3 | 4
/** 0 Cert (full certificate), 1 SPKI. */
export type TlsaSelector = 0 | 1
/** 0 Full, 1 SHA2-256, 2 SHA2-512. */
export type TlsaMatchingType = 0 | 1 | 2

export interface TlsaRecord {
  readonly usage: TlsaUsage
  readonly selector: TlsaSelector
  readonly matchingType: TlsaMatchingType
  readonly data: Uint8Array
}
