/** The crypto provider interface: every primitive the JOSE profiles need (RFC 7518), behind one seam. */
import type { KeyObject } from 'node:crypto'

/** JWS algorithms we produce or check (RFC 7518 §3; RFC 8037 §3.1 for EdDSA). PS256 is verify-only. */
export type JwsAlg = 'ES256' | 'EdDSA' | 'RS256' | 'PS256'

/** Key families. An Ed25519 key also agrees keys as X25519 through the RFC 7748 §4.1 birational map. */
export type KeyKind = 'p256' | 'ed25519' | 'x25519' | 'rsa'

/** A public key imported once; providers attach their own prepared form (KeyObject, precomputed point...). */
export interface PublicKey {
  readonly kind: KeyKind
  /** The neutral form across providers: SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array
}

/** A private key imported once; `publicKey` is its public half, prepared by the same provider. */
export interface PrivateKey {
  readonly kind: KeyKind
  readonly publicKey: PublicKey
}

/** An ephemeral-static key agreement (RFC 7518 §4.6): our ephemeral public key and the shared secret Z. */
export interface Agreement {
  /** P-256: 65-byte uncompressed point (0x04 || x || y); X25519: the 32-byte u-coordinate. */
  readonly epk: Uint8Array
  readonly z: Uint8Array
}

/** AEAD output: ciphertext and authentication tag kept apart, as JWE serializes them. */
export interface Sealed {
  readonly ciphertext: Uint8Array
  readonly tag: Uint8Array
}

export interface CryptoProvider {
  readonly name: 'node' | 'noble'
  /** Imports SPKI DER (P-256, Ed25519, X25519, RSA). Throws ERR_KEY_INVALID / ERR_KEY_UNSUPPORTED. */
  importPublicKey(spki: Uint8Array): PublicKey
  /** Imports PKCS#8 DER or a node KeyObject. Throws ERR_KEY_INVALID / ERR_KEY_UNSUPPORTED. */
  importPrivateKey(key: Uint8Array | KeyObject): PrivateKey
  /** Signs `data`; ES256 signatures are JOSE's fixed 64-byte r||s (RFC 7518 §3.4). */
  sign(alg: JwsAlg, key: PrivateKey, data: Uint8Array): Uint8Array
  /** Verifies; false on any mismatch (never throws for a bad signature). */
  verify(alg: JwsAlg, key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean
  /** Sender side of ECDH-ES: a fresh ephemeral key against the recipient's (P-256 or X25519/Ed25519) key. */
  agreeEphemeral(recipient: PublicKey): Agreement
  /** Recipient side: Z from our key and the sender's `epk` (same encoding as Agreement.epk). Throws ERR_JWE_EPK. */
  agree(key: PrivateKey, epk: Uint8Array): Uint8Array
  sha256(data: Uint8Array): Uint8Array
  /** The Concat KDF of RFC 7518 §4.6.2 over this provider's SHA-256 (OtherInfo from kdf.ts `concatKdfOtherInfo`). */
  concatKdf(z: Uint8Array, keyBits: number, otherInfo: Uint8Array): Uint8Array
  /** AES-256-GCM (RFC 7518 §5.3), 96-bit IV, 128-bit tag. */
  aesGcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Sealed
  /** Returns the plaintext or throws ERR_JWE_DECRYPT. */
  aesGcmDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Uint8Array
  /** AES_256_CBC_HMAC_SHA_512 (RFC 7518 §5.2.5): 64-byte key, 128-bit IV, 256-bit tag. */
  cbcHmacEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Sealed
  /** Returns the plaintext or throws ERR_JWE_DECRYPT (tag checked in constant time before decrypting). */
  cbcHmacDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Uint8Array
  /** RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 7518 §4.3). */
  rsaOaepEncrypt(key: PublicKey, data: Uint8Array): Uint8Array
  /** Throws ERR_JWE_DECRYPT on any failure. */
  rsaOaepDecrypt(key: PrivateKey, data: Uint8Array): Uint8Array
  randomBytes(n: number): Uint8Array
}
