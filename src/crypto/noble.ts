/** The portable crypto provider: @noble/curves, @noble/hashes, @noble/ciphers and BigInt RSA, for runtimes without OpenSSL. */
import { cbc, gcm } from '@noble/ciphers/aes.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { p256 } from '@noble/curves/nist.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { DaneelError } from '../errors.js'
import { aadBitLength } from './bytes.js'
import { bytesToBig } from './der.js'
import { concatKdf } from './kdf.js'
import { parsePkcs8, parseSpki, spkiOf } from './keys-der.js'
import { isAllZero } from './montgomery.js'
import type { Agreement, CryptoProvider, KeyKind, PrivateKey, PublicKey, Sealed } from './provider.js'
import { oaepDecrypt, oaepEncrypt, ps256Verify, type RsaPrivate, type RsaPublic, rs256Sign, rs256Verify } from './rsa.js'

type P256Point = ReturnType<typeof p256.Point.fromBytes>

class NoblePublicKey implements PublicKey {
  readonly kind: KeyKind
  readonly spki: Uint8Array
  /** P-256: uncompressed point; Ed25519/X25519: 32 bytes. */
  readonly raw: Uint8Array
  /** P-256: the point with its wNAF tables built now, which makes each ephemeral ECDH about 4x faster. */
  readonly point: P256Point | undefined
  /** X25519 u-coordinate to agree with (an Ed25519 key's is mapped once, here). */
  readonly u: Uint8Array | undefined
  readonly rsa: RsaPublic | undefined
  constructor(kind: KeyKind, spki: Uint8Array, raw: Uint8Array, rsa?: RsaPublic) {
    this.kind = kind
    this.spki = spki
    this.raw = raw
    this.rsa = rsa
    this.point = kind === 'p256' ? p256.Point.fromBytes(raw).precompute(8, false) : undefined
    this.u = kind === 'x25519' ? raw : kind === 'ed25519' ? ed25519.utils.toMontgomery(raw) : undefined
  }
}

class NoblePrivateKey implements PrivateKey {
  readonly kind: KeyKind
  readonly publicKey: NoblePublicKey
  /** P-256 scalar, Ed25519 seed or X25519 secret. */
  readonly secret: Uint8Array
  readonly xSecret: Uint8Array | undefined
  readonly rsa: RsaPrivate | undefined
  constructor(kind: KeyKind, secret: Uint8Array, publicKey: NoblePublicKey, rsa?: RsaPrivate) {
    this.kind = kind
    this.secret = secret
    this.publicKey = publicKey
    this.rsa = rsa
    this.xSecret = kind === 'x25519' ? secret : kind === 'ed25519' ? ed25519.utils.toMontgomerySecret(secret) : undefined
  }
}

function pub(key: PublicKey): NoblePublicKey {
  if (!(key instanceof NoblePublicKey)) throw new DaneelError('ERR_KEY_INVALID', 'key was not imported by the noble provider')
  return key
}
function priv(key: PrivateKey): NoblePrivateKey {
  if (!(key instanceof NoblePrivateKey)) throw new DaneelError('ERR_KEY_INVALID', 'key was not imported by the noble provider')
  return key
}
const decryptFailed = (cause: unknown): DaneelError => new DaneelError('ERR_JWE_DECRYPT', 'cannot decrypt', { cause })
const badEpk = (cause?: unknown): DaneelError => new DaneelError('ERR_JWE_EPK', 'invalid ephemeral key', { cause })

function wrapKeyError<T>(f: () => T): T {
  try {
    return f()
  } catch (err) {
    if (err instanceof DaneelError) throw err
    throw new DaneelError('ERR_KEY_INVALID', 'invalid key', { cause: err })
  }
}

function cbcMac(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array {
  return hmac
    .create(sha512, key.subarray(0, 32))
    .update(aad)
    .update(iv)
    .update(ciphertext)
    .update(aadBitLength(aad))
    .digest()
    .subarray(0, 32)
}

const { Fn } = p256.Point
const P256_BASE = p256.Point.BASE

/**
 * ECDSA P-256 verification (SEC 1 §4.1.4) with the sender's point precomputed at import: R = u1*G + u2*Q
 * where both multiplications use window tables (public scalars, so the variable-time path is fine). Same
 * verdicts as `p256.verify(sig, msg, pub, { lowS: false })`: high-S signatures are valid (RFC 7518 §3.4 asks
 * nothing else, and OpenSSL, jose and WebCrypto produce them about half the time).
 */
function ecdsaVerify(q: P256Point, data: Uint8Array, signature: Uint8Array): boolean {
  const r = bytesToBig(signature.subarray(0, 32))
  const s = bytesToBig(signature.subarray(32, 64))
  if (r <= 0n || r >= Fn.ORDER || s <= 0n || s >= Fn.ORDER) return false
  const e = Fn.create(bytesToBig(sha256(data)))
  const w = Fn.inv(s)
  const R = P256_BASE.multiplyUnsafe(Fn.mul(e, w)).add(q.multiplyUnsafe(Fn.mul(r, w)))
  if (R.is0()) return false
  return Fn.create(R.toAffine().x) === r
}

export const nobleProvider: CryptoProvider = {
  name: 'noble',
  importPublicKey(spki) {
    return wrapKeyError(() => {
      const k = parseSpki(spki)
      return new NoblePublicKey(k.kind, Uint8Array.from(spki), k.raw, k.rsa)
    })
  },
  importPrivateKey(input) {
    return wrapKeyError(() => {
      const der = input instanceof Uint8Array ? input : new Uint8Array(input.export({ format: 'der', type: 'pkcs8' }))
      const k = parsePkcs8(der)
      let raw: Uint8Array
      if (k.kind === 'p256') raw = p256.getPublicKey(k.secret, false)
      else if (k.kind === 'ed25519') raw = ed25519.getPublicKey(k.secret)
      else if (k.kind === 'x25519') raw = x25519.getPublicKey(k.secret)
      else raw = new Uint8Array(0)
      const spki = spkiOf(k.kind, raw, k.rsa)
      return new NoblePrivateKey(k.kind, k.secret, new NoblePublicKey(k.kind, spki, raw, k.rsa), k.rsa)
    })
  },
  sign(alg, key, data) {
    const k = priv(key)
    if (alg === 'ES256' && k.kind === 'p256') return p256.sign(data, k.secret, { prehash: true })
    if (alg === 'EdDSA' && k.kind === 'ed25519') return ed25519.sign(data, k.secret)
    if (alg === 'RS256' && k.rsa !== undefined) return rs256Sign(k.rsa, data)
    throw new DaneelError('ERR_JOSE_ALG', `cannot sign ${alg} with a ${k.kind} key`)
  },
  verify(alg, key, data, signature) {
    const k = pub(key)
    try {
      // lowS: false: ECDSA signatures from OpenSSL, jose and WebCrypto have a high S about half the time, and
      // they are valid (RFC 7518 §3.4 asks nothing else); noble's default would reject them.
      if (alg === 'ES256' && k.point !== undefined) return signature.length === 64 && ecdsaVerify(k.point, data, signature)
      // zip215: false gives RFC 8032's strict rules, the same verdicts as OpenSSL.
      if (alg === 'EdDSA' && k.kind === 'ed25519')
        return signature.length === 64 && ed25519.verify(signature, data, k.raw, { zip215: false })
      if (alg === 'RS256' && k.rsa !== undefined) return rs256Verify(k.rsa, data, signature)
      if (alg === 'PS256' && k.rsa !== undefined) return ps256Verify(k.rsa, data, signature)
    } catch {
      return false
    }
    return false
  },
  agreeEphemeral(recipient): Agreement {
    const k = pub(recipient)
    if (k.point !== undefined) {
      const eph = p256.utils.randomSecretKey()
      const scalar = p256.Point.Fn.fromBytes(eph)
      const z = k.point.multiply(scalar).toBytes(true).subarray(1)
      return { epk: p256.getPublicKey(eph, false), z }
    }
    if (k.u !== undefined) {
      const eph = x25519.utils.randomSecretKey()
      return { epk: x25519.getPublicKey(eph), z: x25519.getSharedSecret(eph, k.u) }
    }
    throw new DaneelError('ERR_KEY_UNSUPPORTED', `no key agreement with a ${k.kind} key`)
  },
  agree(key, epk) {
    const k = priv(key)
    if (k.kind === 'p256') {
      if (epk.length !== 65 || epk[0] !== 4) throw badEpk()
      try {
        // fromBytes checks the point is on the curve (P-256 has cofactor 1: no small subgroups).
        return p256.getSharedSecret(k.secret, epk, true).subarray(1)
      } catch (err) {
        throw badEpk(err)
      }
    }
    if (k.xSecret !== undefined) {
      if (epk.length !== 32) throw badEpk()
      let z: Uint8Array
      try {
        z = x25519.getSharedSecret(k.xSecret, epk)
      } catch (err) {
        throw badEpk(err)
      }
      if (isAllZero(z)) throw badEpk(new Error('low-order X25519 point'))
      return z
    }
    throw new DaneelError('ERR_KEY_UNSUPPORTED', `no key agreement with a ${k.kind} key`)
  },
  sha256: (data) => sha256(data),
  concatKdf(z, keyBits, otherInfo) {
    return concatKdf(this.sha256, z, keyBits, otherInfo)
  },
  aesGcmEncrypt(key, iv, plaintext, aad): Sealed {
    const out = gcm(key, iv, aad).encrypt(plaintext)
    return { ciphertext: out.subarray(0, out.length - 16), tag: out.subarray(out.length - 16) }
  },
  aesGcmDecrypt(key, iv, ciphertext, tag, aad) {
    if (iv.length !== 12 || tag.length !== 16 || key.length !== 32) throw decryptFailed(new Error('bad IV, tag or key length'))
    const both = new Uint8Array(ciphertext.length + 16)
    both.set(ciphertext)
    both.set(tag, ciphertext.length)
    try {
      return gcm(key, iv, aad).decrypt(both)
    } catch (err) {
      throw decryptFailed(err)
    }
  },
  cbcHmacEncrypt(key, iv, plaintext, aad): Sealed {
    const ciphertext = cbc(key.subarray(32, 64), iv).encrypt(plaintext)
    return { ciphertext, tag: cbcMac(key, iv, ciphertext, aad) }
  },
  cbcHmacDecrypt(key, iv, ciphertext, tag, aad) {
    if (key.length !== 64 || iv.length !== 16 || tag.length !== 32) throw decryptFailed(new Error('bad IV, tag or key length'))
    const mac = cbcMac(key, iv, ciphertext, aad)
    let acc = 0
    for (let i = 0; i < 32; i++) acc |= (mac[i] as number) ^ (tag[i] as number)
    if (acc !== 0) throw decryptFailed(new Error('authentication tag mismatch'))
    try {
      return cbc(key.subarray(32, 64), iv).decrypt(ciphertext)
    } catch (err) {
      throw decryptFailed(err)
    }
  },
  rsaOaepEncrypt(key, data) {
    const k = pub(key)
    if (k.rsa === undefined) throw new DaneelError('ERR_JOSE_ALG', `RSA-OAEP-256 needs an RSA key, not ${k.kind}`)
    return oaepEncrypt(k.rsa, data)
  },
  rsaOaepDecrypt(key, data) {
    const k = priv(key)
    if (k.rsa === undefined) throw new DaneelError('ERR_JOSE_ALG', `RSA-OAEP-256 needs an RSA key, not ${k.kind}`)
    return oaepDecrypt(k.rsa, data)
  },
  randomBytes: (n) => randomBytes(n),
}
