/** isP256Spki: OpenSSL's P-256 keys pass, points off the curve, coordinates out of range and other key types do not. */
import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { isP256Spki } from '../../../src/x509/spki.js'

const spki = (type: 'ec' | 'ed25519', curve = 'P-256'): Buffer =>
  (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: curve }) : generateKeyPairSync('ed25519')).publicKey.export({
    type: 'spki',
    format: 'der',
  })
const opensslAccepts = (der: Uint8Array): boolean => {
  try {
    createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })
    return true
  } catch {
    return false
  }
}

describe('isP256Spki', () => {
  it('accepts every P-256 key OpenSSL makes (200 of them)', () => {
    for (let i = 0; i < 200; i++) assert.equal(isP256Spki(spki('ec')), true)
  })

  it('refuses a point off the curve, as OpenSSL does', () => {
    for (let i = 0; i < 20; i++) {
      const bad = spki('ec')
      bad[40] = (bad[40] as number) ^ (1 << (i % 8)) // a bit of x
      assert.equal(isP256Spki(bad), false)
      assert.equal(opensslAccepts(bad), false)
    }
  })

  it('refuses coordinates not below p: (x + p, y) for a point (x, y) that is on the curve', () => {
    const p = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n
    const b = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn
    const pow = (base: bigint, e: bigint): bigint => {
      let r = 1n
      for (let x = base % p, k = e; k > 0n; k >>= 1n, x = (x * x) % p) if (k & 1n) r = (r * x) % p
      return r
    }
    const prefix = spki('ec').subarray(0, 27)
    const encode = (x: bigint, y: bigint): Buffer =>
      Buffer.concat([prefix, Buffer.from(x.toString(16).padStart(64, '0') + y.toString(16).padStart(64, '0'), 'hex')])
    // the smallest x with a point: y = rhs^((p+1)/4) is a square root when rhs is a square (p ≡ 3 mod 4)
    let x = 0n
    let y = 0n
    for (; ; x++) {
      const rhs = (((x * x * x - 3n * x + b) % p) + p) % p
      y = pow(rhs, (p + 1n) / 4n)
      if ((y * y) % p === rhs) break
    }
    assert.equal(opensslAccepts(encode(x, y)), true)
    assert.equal(isP256Spki(encode(x, y)), true)
    assert.equal(isP256Spki(encode(x + p, y)), false)
  })

  it('refuses other curves, Ed25519, a compressed point and wrong lengths', () => {
    assert.equal(isP256Spki(spki('ec', 'P-384')), false)
    assert.equal(isP256Spki(spki('ec', 'secp256k1')), false)
    assert.equal(isP256Spki(spki('ed25519')), false)
    const compressed = createPublicKey({ key: spki('ec'), format: 'der', type: 'spki' })
    const jwk = compressed.export({ format: 'jwk' })
    const y = Buffer.from(jwk.y as string, 'base64url')
    const c = Buffer.concat([
      Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
      Buffer.of(2 + ((y.at(-1) as number) & 1)),
      Buffer.from(jwk.x as string, 'base64url'),
    ])
    assert.equal(opensslAccepts(c), true, 'a compressed P-256 SPKI is valid DER')
    assert.equal(isP256Spki(c), false, '...and left to OpenSSL')
    assert.equal(isP256Spki(spki('ec').subarray(0, 90)), false)
    assert.equal(isP256Spki(new Uint8Array(0)), false)
  })
})
