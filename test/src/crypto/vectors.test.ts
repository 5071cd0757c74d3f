/** Published vectors (RFC 7515 A.3, RFC 8037 A.4-A.6, RFC 7518 C and B.3, RFC 7520 §4.1, §5.2, §5.5, §6) through BOTH providers. */
import assert from 'node:assert/strict'
import { createDecipheriv, createHmac, createPrivateKey, createPublicKey, type JsonWebKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { aadBitLength } from '../../../src/crypto/bytes.js'
import { getProvider } from '../../../src/crypto/get-provider.js'
import { concatKdf, concatKdfOtherInfo } from '../../../src/crypto/kdf.js'
import type { CryptoProvider, PrivateKey, PublicKey } from '../../../src/crypto/provider.js'
import { fixturePath } from '../../../testkit/paths.js'

const V = JSON.parse(readFileSync(fixturePath('jose/rfc-vectors.json'), 'utf8'))
const cookbook = (name: string) => JSON.parse(readFileSync(fixturePath('jose/rfc7520', name), 'utf8'))
const b64 = (s: string): Buffer => Buffer.from(s, 'base64url')
const hex = (s: string): Buffer => Buffer.from(s, 'hex')
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1')

// JWK -> DER is test glue (node's JWK import); the providers then parse the DER themselves.
function priv(p: CryptoProvider, jwk: JsonWebKey): PrivateKey {
  return p.importPrivateKey(new Uint8Array(createPrivateKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'pkcs8' })))
}
function pub(p: CryptoProvider, jwk: JsonWebKey): PublicKey {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = jwk
  return p.importPublicKey(new Uint8Array(createPublicKey({ key: rest, format: 'jwk' }).export({ format: 'der', type: 'spki' })))
}
const X25519_PKCS8 = '302e020100300506032b656e04220420'
const X25519_SPKI = '302a300506032b656e032100'
const flip = (b: Uint8Array): Uint8Array => {
  const c = Uint8Array.from(b)
  c[c.length - 1] = (c[c.length - 1] as number) ^ 1
  return c
}

for (const p of [getProvider('node'), getProvider('noble')]) {
  describe(`published vectors: ${p.name} provider`, () => {
    it('RFC 7515 A.3: the ES256 signature verifies, and a flipped bit does not; our own signature verifies', () => {
      const v = V.rfc7515_a3_es256
      const key = pub(p, v.jwk)
      assert.equal(p.verify('ES256', key, ascii(v.signingInput), b64(v.signature)), true)
      assert.equal(p.verify('ES256', key, ascii(v.signingInput), flip(b64(v.signature))), false)
      assert.equal(p.verify('ES256', key, ascii(`${v.signingInput}x`), b64(v.signature)), false)
      const sig = p.sign('ES256', priv(p, v.jwk), ascii(v.signingInput))
      assert.equal(sig.length, 64)
      assert.equal(p.verify('ES256', key, ascii(v.signingInput), sig), true)
    })
    it('RFC 8037 A.2/A.4/A.5: the Ed25519 public key, the exact signature, and its verification', () => {
      const v = V.rfc8037_a1_a4_a5_ed25519
      const k = priv(p, v.jwk)
      assert.deepEqual(Buffer.from(k.publicKey.spki.subarray(-32)), b64(v.jwk.x))
      assert.equal(Buffer.from(p.sign('EdDSA', k, ascii(v.signingInput))).toString('base64url'), v.signature)
      assert.equal(p.verify('EdDSA', pub(p, v.jwk), ascii(v.signingInput), b64(v.signature)), true)
      assert.equal(p.verify('EdDSA', pub(p, v.jwk), ascii(v.signingInput), flip(b64(v.signature))), false)
    })
    it('RFC 8037 A.6: X25519 ephemeral public key and shared secret Z', () => {
      const v = V.rfc8037_a6_x25519
      const eph = p.importPrivateKey(new Uint8Array(Buffer.concat([hex(X25519_PKCS8), hex(v.ephemeralSecretHex)])))
      assert.deepEqual(Buffer.from(eph.publicKey.spki.subarray(-32)), b64(v.ephemeralPublic))
      assert.equal(Buffer.from(p.agree(eph, b64(v.recipientPublic))).toString('hex'), v.zHex)
      // And as a recipient key: the spki round-trips through the provider.
      assert.equal(p.importPublicKey(new Uint8Array(Buffer.concat([hex(X25519_SPKI), b64(v.recipientPublic)]))).kind, 'x25519')
    })
    it('RFC 7518 C: ECDH-ES on P-256, both directions, and the Concat KDF', () => {
      const v = V.rfc7518_c_ecdh_es
      const point = (jwk: { x: string; y: string }) => Buffer.concat([Buffer.of(4), b64(jwk.x), b64(jwk.y)])
      const z1 = p.agree(priv(p, v.bob), point(v.alice))
      const z2 = p.agree(priv(p, v.alice), point(v.bob))
      assert.deepEqual([...z1], v.z)
      assert.deepEqual([...z2], v.z)
      const info = concatKdfOtherInfo(v.enc, v.keyBits, b64(v.apu), b64(v.apv))
      assert.equal(Buffer.from(p.concatKdf(z1, v.keyBits, info)).toString('base64url'), v.derivedKey)
      assert.equal(Buffer.from(concatKdf(p.sha256, z1, v.keyBits, info)).toString('base64url'), v.derivedKey)
    })
    it('RFC 7518 B.3: A256CBC-HS512 ciphertext and tag, and decryption', () => {
      const v = V.rfc7518_b3_a256cbc_hs512
      const out = p.cbcHmacEncrypt(hex(v.keyHex), hex(v.ivHex), ascii(v.plaintext), ascii(v.aad))
      assert.equal(Buffer.from(out.ciphertext).toString('hex'), v.ciphertextHex)
      assert.equal(Buffer.from(out.tag).toString('hex'), v.tagHex)
      assert.equal(
        Buffer.from(p.cbcHmacDecrypt(hex(v.keyHex), hex(v.ivHex), hex(v.ciphertextHex), hex(v.tagHex), ascii(v.aad))).toString('latin1'),
        v.plaintext,
      )
      assert.throws(() => p.cbcHmacDecrypt(hex(v.keyHex), hex(v.ivHex), hex(v.ciphertextHex), flip(hex(v.tagHex)), ascii(v.aad)), {
        code: 'ERR_JWE_DECRYPT',
      })
    })
    it('RFC 7520 §4.1: the exact RS256 signature, and its verification', () => {
      const v = cookbook('4_1.rsa_v15_signature.json')
      const input = ascii(v.signing['sig-input'])
      assert.equal(Buffer.from(p.sign('RS256', priv(p, v.input.key), input)).toString('base64url'), v.signing.sig)
      assert.equal(p.verify('RS256', pub(p, v.input.key), input, b64(v.signing.sig)), true)
      assert.equal(p.verify('RS256', pub(p, v.input.key), input, flip(b64(v.signing.sig))), false)
    })
    it('RFC 7520 §5.2: A256GCM content encryption with the published CEK and IV', () => {
      const v = cookbook('5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json')
      const aad = ascii(v.encrypting_content.protected_b64u)
      const out = p.aesGcmEncrypt(b64(v.generated.cek), b64(v.generated.iv), Buffer.from(v.input.plaintext, 'utf8'), aad)
      assert.equal(Buffer.from(out.ciphertext).toString('base64url'), v.encrypting_content.ciphertext)
      assert.equal(Buffer.from(out.tag).toString('base64url'), v.encrypting_content.tag)
      const back = p.aesGcmDecrypt(
        b64(v.generated.cek),
        b64(v.generated.iv),
        b64(v.encrypting_content.ciphertext),
        b64(v.encrypting_content.tag),
        aad,
      )
      assert.equal(Buffer.from(back).toString('utf8'), v.input.plaintext)
      assert.throws(
        () =>
          p.aesGcmDecrypt(
            b64(v.generated.cek),
            b64(v.generated.iv),
            b64(v.encrypting_content.ciphertext),
            b64(v.encrypting_content.tag),
            flip(aad),
          ),
        { code: 'ERR_JWE_DECRYPT' },
      )
    })
    it('RFC 7520 §5.5: ECDH-ES on P-256 and the Concat KDF give the CEK that authenticates and decrypts the message', () => {
      const v = cookbook('5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json')
      const epk = v.encrypting_content.protected.epk
      const z = p.agree(priv(p, v.input.key), Buffer.concat([Buffer.of(4), b64(epk.x), b64(epk.y)]))
      const cek = p.concatKdf(z, 256, concatKdfOtherInfo('A128CBC-HS256', 256))
      // A128CBC-HS256 (RFC 7518 §5.2.3) is not a daneel algorithm: checked here with node's primitives.
      const aad = ascii(v.encrypting_content.protected_b64u)
      const iv = b64(v.generated.iv)
      const ct = b64(v.encrypting_content.ciphertext)
      const mac = createHmac('sha256', cek.subarray(0, 16))
        .update(aad)
        .update(iv)
        .update(ct)
        .update(aadBitLength(aad))
        .digest()
        .subarray(0, 16)
      assert.equal(mac.toString('base64url'), v.encrypting_content.tag)
      const d = createDecipheriv('aes-128-cbc', cek.subarray(16, 32), iv)
      assert.equal(Buffer.concat([d.update(ct), d.final()]).toString('utf8'), v.input.plaintext)
    })
    it('RFC 7520 §6: the PS256 signature of the nested example verifies, and a flipped bit does not', () => {
      const v = cookbook('6.nesting_signatures_and_encryption.json').sign
      const input = ascii(v.signing['sig-input'])
      assert.equal(p.verify('PS256', pub(p, v.input.key), input, b64(v.signing.sig)), true)
      assert.equal(p.verify('PS256', pub(p, v.input.key), input, flip(b64(v.signing.sig))), false)
      assert.equal(p.verify('RS256', pub(p, v.input.key), input, b64(v.signing.sig)), false)
    })
  })
}
