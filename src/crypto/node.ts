/** The default crypto provider: node:crypto (OpenSSL), with every key prepared once at import. */
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto'
import { DaneelError } from '../errors.js'
import { aadBitLength } from './bytes.js'
import { concatKdf } from './kdf.js'
import { isAllZero } from './montgomery.js'
import { kindOf, NodePrivateKey, NodePublicKey, priv, pub, x25519Public } from './node-keys.js'
import type { Agreement, CryptoProvider, JwsAlg, Sealed } from './provider.js'

const decryptFailed = (cause: unknown): DaneelError => new DaneelError('ERR_JWE_DECRYPT', 'cannot decrypt', { cause })
const badEpk = (cause?: unknown): DaneelError => new DaneelError('ERR_JWE_EPK', 'invalid ephemeral key', { cause })

export const nodeProvider: CryptoProvider = {
  name: 'node',
  importPublicKey(spki) {
    let key: KeyObject
    try {
      key = createPublicKey({ key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength), format: 'der', type: 'spki' })
    } catch (err) {
      throw new DaneelError('ERR_KEY_INVALID', 'cannot parse the public key', { cause: err })
    }
    return new NodePublicKey(kindOf(key, spki), key)
  },
  importPrivateKey(input) {
    let key: KeyObject
    if (input instanceof Uint8Array) {
      try {
        key = createPrivateKey({ key: Buffer.from(input.buffer, input.byteOffset, input.byteLength), format: 'der', type: 'pkcs8' })
      } catch (err) {
        throw new DaneelError('ERR_KEY_INVALID', 'cannot parse the private key', { cause: err })
      }
    } else key = input
    if (key.type !== 'private') throw new DaneelError('ERR_KEY_INVALID', 'not a private key')
    return new NodePrivateKey(kindOf(key), key)
  },
  sign(alg: JwsAlg, key, data) {
    const k = priv(key)
    if (alg === 'ES256' && k.kind === 'p256') return sign('sha256', data, k.ecdsaOpts)
    if (alg === 'EdDSA' && k.kind === 'ed25519') return sign(null, data, k.key)
    if (alg === 'RS256' && k.kind === 'rsa') return sign('sha256', data, k.key)
    throw new DaneelError('ERR_JOSE_ALG', `cannot sign ${alg} with a ${k.kind} key`)
  },
  verify(alg, key, data, signature) {
    const k = pub(key)
    try {
      if (alg === 'ES256' && k.kind === 'p256') return signature.length === 64 && verify('sha256', data, k.ecdsaOpts, signature)
      if (alg === 'EdDSA' && k.kind === 'ed25519') return signature.length === 64 && verify(null, data, k.key, signature)
      if (alg === 'RS256' && k.kind === 'rsa') return verify('sha256', data, k.key, signature)
      if (alg === 'PS256' && k.kind === 'rsa') return verify('sha256', data, k.pssOpts, signature)
    } catch {
      return false
    }
    return false
  },
  agreeEphemeral(recipient): Agreement {
    const k = pub(recipient)
    if (k.p256Point !== undefined) {
      const ecdh = createECDH('prime256v1')
      const epk = ecdh.generateKeys()
      return { epk, z: ecdh.computeSecret(k.p256Point) }
    }
    if (k.x25519 !== undefined) {
      const { privateKey, publicKey } = generateKeyPairSync('x25519')
      const epk = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url')
      return { epk, z: diffieHellman({ privateKey, publicKey: k.x25519 }) }
    }
    throw new DaneelError('ERR_KEY_UNSUPPORTED', `no key agreement with a ${k.kind} key`)
  },
  agree(key, epk) {
    const k = priv(key)
    if (k.ecdh !== undefined) {
      // computeSecret rejects points off the curve; P-256 has cofactor 1, so there are no small subgroups.
      if (epk.length !== 65 || epk[0] !== 4) throw badEpk()
      try {
        return k.ecdh.computeSecret(epk)
      } catch (err) {
        throw badEpk(err)
      }
    }
    if (k.x25519 !== undefined) {
      if (epk.length !== 32) throw badEpk()
      let z: Buffer
      try {
        z = diffieHellman({ privateKey: k.x25519, publicKey: x25519Public(epk) })
      } catch (err) {
        throw badEpk(err)
      }
      if (isAllZero(z)) throw badEpk(new Error('low-order X25519 point'))
      return z
    }
    throw new DaneelError('ERR_KEY_UNSUPPORTED', `no key agreement with a ${k.kind} key`)
  },
  sha256: (data) => createHash('sha256').update(data).digest(),
  concatKdf(z, keyBits, otherInfo) {
    return concatKdf(this.sha256, z, keyBits, otherInfo)
  },
  aesGcmEncrypt(key, iv, plaintext, aad): Sealed {
    const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
    c.setAAD(aad)
    const head = c.update(plaintext)
    const tail = c.final()
    return { ciphertext: tail.length === 0 ? head : Buffer.concat([head, tail]), tag: c.getAuthTag() }
  },
  aesGcmDecrypt(key, iv, ciphertext, tag, aad) {
    if (iv.length !== 12 || tag.length !== 16 || key.length !== 32) throw decryptFailed(new Error('bad IV, tag or key length'))
    try {
      // the tag length is checked above; an options object here costs a lookup per message in node's cipher setup
      const d = createDecipheriv('aes-256-gcm', key, iv)
      d.setAuthTag(tag)
      d.setAAD(aad)
      const head = d.update(ciphertext)
      const tail = d.final()
      return tail.length === 0 ? head : Buffer.concat([head, tail])
    } catch (err) {
      throw decryptFailed(err)
    }
  },
  cbcHmacEncrypt(key, iv, plaintext, aad): Sealed {
    const c = createCipheriv('aes-256-cbc', key.subarray(32, 64), iv)
    const ciphertext = Buffer.concat([c.update(plaintext), c.final()])
    const tag = createHmac('sha512', key.subarray(0, 32))
      .update(aad)
      .update(iv)
      .update(ciphertext)
      .update(aadBitLength(aad))
      .digest()
      .subarray(0, 32)
    return { ciphertext, tag }
  },
  cbcHmacDecrypt(key, iv, ciphertext, tag, aad) {
    if (key.length !== 64 || iv.length !== 16 || tag.length !== 32) throw decryptFailed(new Error('bad IV, tag or key length'))
    const mac = createHmac('sha512', key.subarray(0, 32))
      .update(aad)
      .update(iv)
      .update(ciphertext)
      .update(aadBitLength(aad))
      .digest()
      .subarray(0, 32)
    if (!timingSafeEqual(mac, tag)) throw decryptFailed(new Error('authentication tag mismatch'))
    try {
      const d = createDecipheriv('aes-256-cbc', key.subarray(32, 64), iv)
      return Buffer.concat([d.update(ciphertext), d.final()])
    } catch (err) {
      throw decryptFailed(err)
    }
  },
  rsaOaepEncrypt(key, data) {
    const k = pub(key)
    if (k.kind !== 'rsa') throw new DaneelError('ERR_JOSE_ALG', `RSA-OAEP-256 needs an RSA key, not ${k.kind}`)
    return publicEncrypt(k.oaepOpts, data)
  },
  rsaOaepDecrypt(key, data) {
    const k = priv(key)
    if (k.kind !== 'rsa') throw new DaneelError('ERR_JOSE_ALG', `RSA-OAEP-256 needs an RSA key, not ${k.kind}`)
    try {
      return privateDecrypt(k.oaepOpts, data)
    } catch (err) {
      throw decryptFailed(err)
    }
  },
  randomBytes: (n) => randomBytes(n),
}
