/** Object identifiers daneel reads or writes (RFC 5280, RFC 5480, RFC 8410, RFC 8017, RFC 2985). */

export const OID = {
  // attribute types (RFC 5280 §4.1.2.4)
  commonName: '2.5.4.3',
  // extensions (RFC 5280 §4.2.1)
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  // public keys
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  ed25519: '1.3.101.112',
  rsaEncryption: '1.2.840.113549.1.1.1',
  // signatures
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  // PKCS#9 extensionRequest attribute in a CSR (RFC 2985 §5.4.2)
  extensionRequest: '1.2.840.113549.1.9.14',
} as const

/** Short names for distinguished-name attributes (as openssl prints them). */
export const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
}

/** Signature algorithms we verify: hash for node:crypto (null for Ed25519) and the key family they need. */
export const SIGNATURE_ALGORITHMS: Readonly<Record<string, { name: string; hash: string | null; key: 'ec' | 'ed25519' | 'rsa' }>> = {
  [OID.ecdsaWithSha256]: { name: 'ecdsa-with-SHA256', hash: 'sha256', key: 'ec' },
  [OID.ecdsaWithSha384]: { name: 'ecdsa-with-SHA384', hash: 'sha384', key: 'ec' },
  [OID.ecdsaWithSha512]: { name: 'ecdsa-with-SHA512', hash: 'sha512', key: 'ec' },
  [OID.ed25519]: { name: 'Ed25519', hash: null, key: 'ed25519' },
  [OID.sha256WithRsa]: { name: 'sha256WithRSAEncryption', hash: 'sha256', key: 'rsa' },
  [OID.sha384WithRsa]: { name: 'sha384WithRSAEncryption', hash: 'sha384', key: 'rsa' },
  [OID.sha512WithRsa]: { name: 'sha512WithRSAEncryption', hash: 'sha512', key: 'rsa' },
}

/** KeyUsage bit names in bit order (RFC 5280 §4.2.1.3). */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const
export type KeyUsageName = (typeof KEY_USAGE_BITS)[number]
