/** node:crypto key handles for the node provider: each key's prepared forms (KeyObject, ECDH, X25519) built once at import. */
import { constants, createECDH, createHash, createPrivateKey, createPublicKey, type ECDH, type KeyObject } from 'node:crypto'
import { DaneelError } from '../errors.js'
import { edwardsToMontgomeryPublic, edwardsToMontgomerySecret } from './montgomery.js'
import type { KeyKind, PrivateKey, PublicKey } from './provider.js'

export class NodePublicKey implements PublicKey {
  readonly kind: KeyKind
  readonly spki: Uint8Array
  readonly key: KeyObject
  /** P-256: the uncompressed point for ECDH.computeSecret; X25519/Ed25519: the X25519 KeyObject to agree with. */
  readonly p256Point: Buffer | undefined
  readonly x25519: KeyObject | undefined
  /** Precomputed option objects: node's sign/verify take them as is, so none is built per message. */
  readonly ecdsaOpts: { key: KeyObject; dsaEncoding: 'ieee-p1363' }
  readonly pssOpts: { key: KeyObject; padding: number; saltLength: number }
  readonly oaepOpts: { key: KeyObject; padding: number; oaepHash: string }
  constructor(kind: KeyKind, key: KeyObject) {
    this.kind = kind
    this.key = key
    this.spki = new Uint8Array(key.export({ format: 'der', type: 'spki' }))
    const jwk = key.export({ format: 'jwk' })
    this.p256Point =
      kind === 'p256'
        ? Buffer.concat([Buffer.of(4), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')])
        : undefined
    this.x25519 =
      kind === 'x25519'
        ? key
        : kind === 'ed25519'
          ? x25519Public(edwardsToMontgomeryPublic(Buffer.from(jwk.x as string, 'base64url')))
          : undefined
    this.ecdsaOpts = { key, dsaEncoding: 'ieee-p1363' }
    this.pssOpts = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
    this.oaepOpts = { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }
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
export function kindOf(key: KeyObject): KeyKind {
  const t = key.asymmetricKeyType
  if (t === 'ec') {
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      throw new DaneelError('ERR_KEY_UNSUPPORTED', 'only the P-256 curve is supported')
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
