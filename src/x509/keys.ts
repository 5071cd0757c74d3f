/** Private keys: generate (P-256, Ed25519, RSA-2048), read PKCS#8 / PKCS#1 / SEC1 PEM, write PKCS#8, match to certs. */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { bytesEqual } from '../bytes.js'
import { DaneelError } from '../errors.js'
import type { Certificate } from './cert.js'
import { type PemBlock, pemBlocks, pemEncode } from './pem.js'
import type { KeyType } from './spki.js'

/** What `--key-type` accepts. */
export type KeyTypeOption = 'p256' | 'ed25519' | 'rsa2048'
export const KEY_TYPE_OPTIONS: readonly KeyTypeOption[] = ['p256', 'ed25519', 'rsa2048']

export function isKeyTypeOption(s: string): s is KeyTypeOption {
  return (KEY_TYPE_OPTIONS as readonly string[]).includes(s)
}

/** A fresh key pair; node:crypto does the work (OpenSSL underneath). */
export function generateKeyPair(type: KeyTypeOption): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (type) {
    case 'p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    case 'ed25519':
      return generateKeyPairSync('ed25519')
    case 'rsa2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
  }
}

const KEY_LABELS: Readonly<Record<string, 'pkcs8' | 'pkcs1' | 'sec1'>> = {
  'PRIVATE KEY': 'pkcs8',
  'RSA PRIVATE KEY': 'pkcs1',
  'EC PRIVATE KEY': 'sec1',
}

/**
 * Reads a private key from PEM: PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY", with or
 * without openssl's leading "EC PARAMETERS" block). Encrypted keys and other types are refused: a device has no one to
 * type a passphrase. ERR_KEY_INVALID for bad input, ERR_KEY_UNSUPPORTED for a key we cannot use.
 */
export function loadPrivateKey(pem: string): KeyObject {
  let blocks: PemBlock[]
  try {
    blocks = pemBlocks(pem)
  } catch (err) {
    throw new DaneelError('ERR_KEY_INVALID', `private key: ${(err as Error).message}`, { cause: err })
  }
  if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY'))
    throw new DaneelError('ERR_KEY_UNSUPPORTED', 'encrypted private keys are not supported (store it unencrypted with mode 0600)')
  const block = blocks.find((b) => KEY_LABELS[b.label] !== undefined)
  if (block === undefined) throw new DaneelError('ERR_KEY_INVALID', 'no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block found')
  let key: KeyObject
  try {
    key = createPrivateKey({ key: Buffer.from(block.der), format: 'der', type: KEY_LABELS[block.label] as 'pkcs8' | 'pkcs1' | 'sec1' })
  } catch (err) {
    throw new DaneelError('ERR_KEY_INVALID', `private key does not parse (${block.label})`, { cause: err })
  }
  keyTypeOf(key)
  return key
}

/** The daneel key type of a key object; ERR_KEY_UNSUPPORTED for anything else (P-384, DSA, RSA < 2048 bits, ...). */
export function keyTypeOf(key: KeyObject): Exclude<KeyType, 'other'> {
  const t = key.asymmetricKeyType
  if (t === 'ed25519') return 'ed25519'
  if (t === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'p256'
  if (t === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return 'rsa'
  const detail =
    t === 'ec' ? ` on ${key.asymmetricKeyDetails?.namedCurve}` : t === 'rsa' ? ` of ${key.asymmetricKeyDetails?.modulusLength} bits` : ''
  throw new DaneelError('ERR_KEY_UNSUPPORTED', `unsupported key type ${t}${detail} (use P-256, Ed25519 or RSA >= 2048)`)
}

/** The `--key-type` name of a key. */
export function keyTypeOptionOf(key: KeyObject): KeyTypeOption {
  const t = keyTypeOf(key)
  return t === 'rsa' ? 'rsa2048' : t
}

/** PKCS#8 PEM, the one format daneel writes (docs/contract.md "Files": "PKCS#8 is written"). */
export function privateKeyToPkcs8Pem(key: KeyObject): string {
  return pemEncode(new Uint8Array(key.export({ type: 'pkcs8', format: 'der' })), 'PRIVATE KEY')
}

/** SubjectPublicKeyInfo DER of a private or public key. */
export function spkiOf(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key
  return new Uint8Array(pub.export({ type: 'spki', format: 'der' }))
}

/** True when the certificate carries this key's public half. */
export function keyMatchesCertificate(key: KeyObject, cert: Certificate): boolean {
  return bytesEqual(spkiOf(key), cert.spkiDer)
}
