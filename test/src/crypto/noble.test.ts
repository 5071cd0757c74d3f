/** The noble provider's own ES256 verify (precomputed sender point) agrees with noble's p256.verify and accepts high-S signatures. */
import assert from 'node:assert/strict'
import { generateKeyPairSync, sign } from 'node:crypto'
import { describe, it } from 'node:test'
import { p256 } from '@noble/curves/nist.js'
import { getProvider } from '../../../src/crypto/get-provider.js'

const noble = getProvider('noble')
const N = p256.Point.Fn.ORDER

describe('noble ES256 verify', () => {
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const spki = new Uint8Array(kp.publicKey.export({ format: 'der', type: 'spki' }))
  const raw = spki.subarray(-65)
  const key = noble.importPublicKey(spki)
  it('accepts OpenSSL signatures with a high S (about half of them), as p256.verify with lowS: false does', () => {
    let high = 0
    for (let i = 0; i < 24; i++) {
      const msg = Buffer.from(`message ${i}`)
      const sig = sign('sha256', msg, { key: kp.privateKey, dsaEncoding: 'ieee-p1363' })
      if (BigInt(`0x${sig.subarray(32).toString('hex')}`) > N / 2n) high++
      assert.equal(noble.verify('ES256', key, msg, sig), true)
      assert.equal(p256.verify(sig, msg, raw, { lowS: false }), true)
    }
    assert.ok(high > 0, 'no high-S signature in 24 tries (probability 2^-24)')
  })
  it('agrees with p256.verify on tampered signatures and messages', () => {
    const msg = Buffer.from('reading')
    const sig = sign('sha256', msg, { key: kp.privateKey, dsaEncoding: 'ieee-p1363' })
    for (let i = 0; i < 64; i += 3) {
      const bad = Buffer.from(sig)
      bad[i] = (bad[i] as number) ^ 0x40
      assert.equal(noble.verify('ES256', key, msg, bad), p256.verify(bad, msg, raw, { lowS: false }))
      assert.equal(noble.verify('ES256', key, msg, bad), false)
    }
    assert.equal(noble.verify('ES256', key, Buffer.from('readinG'), sig), false)
    // r = 0, s = 0 and r, s >= n are invalid (SEC 1 §4.1.4 step 1).
    assert.equal(noble.verify('ES256', key, msg, new Uint8Array(64)), false)
    assert.equal(noble.verify('ES256', key, msg, new Uint8Array(64).fill(0xff)), false)
  })
})
