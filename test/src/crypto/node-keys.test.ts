/** The node provider's imported public keys: what a cached key holds (a gateway keeps one per device) and the curve check from the SPKI. */
import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { nodeProvider } from '../../../src/crypto/node.js'
import { NodePublicKey } from '../../../src/crypto/node-keys.js'
import { isDaneelError } from '../../../src/errors.js'

const spkiOf = (curve: string): Uint8Array =>
  new Uint8Array(generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ type: 'spki', format: 'der' }))

describe('node provider public keys', () => {
  it('imports a P-256 SPKI as p256, and its lazily made forms match what OpenSSL exports', () => {
    const spki = spkiOf('P-256')
    const k = nodeProvider.importPublicKey(spki) as NodePublicKey
    assert.equal(k.kind, 'p256')
    assert.deepEqual(k.spki, spki)
    const jwk = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'jwk' })
    const point = k.p256Point as Buffer
    assert.equal(point[0], 4)
    assert.deepEqual(point.subarray(1, 33), Buffer.from(jwk.x as string, 'base64url'))
    assert.deepEqual(point.subarray(33), Buffer.from(jwk.y as string, 'base64url'))
    assert.equal(k.p256Point, point, 'made once')
  })

  it('holds its ECDH point in its own 65 bytes, not in a slice of the shared Buffer pool', () => {
    // a pool slice keeps the whole 8 KiB pool alive for as long as the key is cached
    const k = nodeProvider.importPublicKey(spkiOf('P-256')) as NodePublicKey
    assert.equal((k.p256Point as Buffer).buffer.byteLength, 65)
  })

  it('refuses other curves, read from the SPKI: P-384, secp256k1, P-521', () => {
    for (const curve of ['P-384', 'secp256k1', 'P-521']) {
      assert.throws(
        () => nodeProvider.importPublicKey(spkiOf(curve)),
        (e: unknown) => isDaneelError(e, 'ERR_KEY_UNSUPPORTED'),
        curve,
      )
    }
  })

  it('has no ECDH point for a non-P-256 key, and makes RSA options only when asked', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey
    const k = new NodePublicKey('rsa', rsa)
    assert.equal(k.p256Point, undefined)
    assert.equal(k.pssOpts, k.pssOpts, 'made once')
    assert.equal(k.oaepOpts.key, rsa)
  })
})
