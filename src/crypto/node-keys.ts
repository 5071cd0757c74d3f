/** node:crypto key handles for the node provider: each key's prepared forms (KeyObject, ECDH, X25519) built once at import. */
import { constants, createECDH, createHash, createPrivateKey, createPublicKey, type ECDH, type KeyObject } from 'node:crypto'
import { DaneelError } from '../errors.js'
import { edwardsToMontgomeryPublic, edwardsToMontgomerySecret } from './montgomery.js'
import type { KeyKind, PrivateKey, PublicKey } from './provider.js'

export class NodePublicKey implements PublicKey {
  readonly kind: KeyKind
  readonly key: KeyObject
  /** X25519/Ed25519: the X25519 KeyObject to agree with. */
  readonly x25519: KeyObject | undefined
  /** Precomputed option objects: node's sign/verify take them as is, so none is built per message. */
  readonly ecdsaOpts: { key: KeyObject; dsaEncoding: 'ieee-p1363' }
  // Made on first use, each: a gateway keeps one imported key per device and only verifies with it, so a copy
  // of the SPKI, the ECDH point and the RSA option objects would be some 600 bytes per device it never reads.
  #spki: Uint8Array | undefined
  #point: Buffer | undefined
  #pss: { key: KeyObject; padding: number; saltLength: number } | undefined
  #oaep: { key: KeyObject; padding: number; oaepHash: string } | undefined
  constructor(kind: KeyKind, key: KeyObject) {
    this.kind = kind
    this.key = key
    this.x25519 =
      kind === 'x25519'
        ? key
        : kind === 'ed25519'
          ? x25519Public(edwardsToMontgomeryPublic(Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url')))
          : undefined
    this.ecdsaOpts = { key, dsaEncoding: 'ieee-p1363' }
  }
  get spki(): Uint8Array {
    this.#spki ??= new Uint8Array(this.key.export({ format: 'der', type: 'spki' }))
    return this.#spki
  }
  /** P-256: the uncompressed point for ECDH.computeSecret; undefined for other kinds. */
  get p256Point(): Buffer | undefined {
    if (this.kind !== 'p256') return undefined
    if (this.#point === undefined) {
      const jwk = this.key.export({ format: 'jwk' })
      // Buffer.alloc, not Buffer.concat: a small concat is a slice of Node's shared 8 KiB pool, and a cached key
      // holding 65 bytes of it kept the whole 8 KiB alive (2 KiB per known device at a gateway, bench:fleet)
      this.#point = Buffer.alloc(65, 4)
      Buffer.from(jwk.x as string, 'base64url').copy(this.#point, 1)
      Buffer.from(jwk.y as string, 'base64url').copy(this.#point, 33)
    }
    return this.#point
  }
  get pssOpts(): { key: KeyObject; padding: number; saltLength: number } {
    this.#pss ??= { key: this.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
    return this.#pss
  }
  get oaepOpts(): { key: KeyObject; padding: number; oaepHash: string } {
    this.#oaep ??= { key: this.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }
    return this.#oaep
  }
}

export class NodePrivateKey implements PrivateKey {
  readonly kind: KeyKind
  readonly publicKey: NodePublicKey
  readonly key: KeyObject
  readonly ecdh: ECDH | undefined
  readonly x25519: KeyObject | undefined
  readonly ecdsaOpts: { key: KeyObject; dsaEncoding: 'ieee-p1363' }
  readonly oaepOpts: { key: KeyObject; padding: number; oaepHash: string }
  constructor(kind: KeyKind, key: KeyObject) {
    this.kind = kind
    this.key = key
    this.publicKey = new NodePublicKey(kind, createPublicKey(key))
    const jwk = key.export({ format: 'jwk' })
    if (kind === 'p256') {
      this.ecdh = createECDH('prime256v1')
      this.ecdh.setPrivateKey(Buffer.from(jwk.d as string, 'base64url'))
    } else this.ecdh = undefined
    this.x25519 =
      kind === 'x25519'
        ? key
        : kind === 'ed25519'
          ? x25519Private(edwardsToMontgomerySecret(Buffer.from(jwk.d as string, 'base64url'), sha512))
          : undefined
    this.ecdsaOpts = { key, dsaEncoding: 'ieee-p1363' }
    this.oaepOpts = { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }
  }
}

const sha512 = (d: Uint8Array): Uint8Array => createHash('sha512').update(d).digest()
// DER prefixes of RFC 8410 §4 (SPKI) and §7 (PKCS#8) for X25519, followed by the 32 raw key bytes.
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
export const x25519Public = (u: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, u]), format: 'der', type: 'spki' })
const x25519Private = (d: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, d]), format: 'der', type: 'pkcs8' })

/** Maps a KeyObject to our key kind, rejecting curves and sizes the profiles do not use. */
/** DER of the prime256v1 OID (RFC 5480 §2.1.1.1), as an EC SPKI names its curve. */
const P256_OID = Buffer.from('06082a8648ce3d030107', 'hex')

/**
 * The kind of a key node parsed. With the SPKI DER at hand, an EC key's curve is read from it: asking the
 * KeyObject (asymmetricKeyDetails) makes node keep a details object on it, some 130 bytes per cached key.
 */
export function kindOf(key: KeyObject, spki?: Uint8Array): KeyKind {
  const t = key.asymmetricKeyType
  if (t === 'ec') {
    // 30 59 30 13 06 07 <id-ecPublicKey> then the curve's OID at offset 13 (named curves only; node parsed the rest)
    const p256 =
      spki === undefined ? key.asymmetricKeyDetails?.namedCurve === 'prime256v1' : P256_OID.equals(Buffer.from(spki.subarray(13, 23)))
    if (!p256) throw new DaneelError('ERR_KEY_UNSUPPORTED', 'only the P-256 curve is supported')
    return 'p256'
  }
  if (t === 'ed25519' || t === 'x25519') return t
  if (t === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < 2048 || bits > 8192) throw new DaneelError('ERR_KEY_UNSUPPORTED', 'RSA keys must have 2048 to 8192 bits')
    return 'rsa'
  }
  throw new DaneelError('ERR_KEY_UNSUPPORTED', `unsupported key type '${t ?? 'unknown'}'`)
}

export function pub(key: PublicKey): NodePublicKey {
  if (!(key instanceof NodePublicKey)) throw new DaneelError('ERR_KEY_INVALID', 'key was not imported by the node provider')
  return key
}
export function priv(key: PrivateKey): NodePrivateKey {
  if (!(key instanceof NodePrivateKey)) throw new DaneelError('ERR_KEY_INVALID', 'key was not imported by the node provider')
  return key
}
