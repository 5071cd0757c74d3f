/** tweetnacl as an independent oracle: its Ed25519 signatures and X25519 agreements must match both providers. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import nacl from 'tweetnacl'
import { getProvider } from '../../../src/crypto/get-provider.js'

// RFC 8410 DER prefixes around raw 32-byte keys.
const ED_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex')
const ED_SPKI = Buffer.from('302a300506032b6570032100', 'hex')
const X_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex')

for (const p of [getProvider('node'), getProvider('noble')]) {
  describe(`tweetnacl oracle: ${p.name} provider`, () => {
    it('Ed25519: the same deterministic signatures, verified both ways', () => {
      for (let i = 0; i < 8; i++) {
        const seed = nacl.randomBytes(32)
        const kp = nacl.sign.keyPair.fromSeed(seed)
        const msg = nacl.randomBytes(1 + i * 37)
        const ours = p.sign('EdDSA', p.importPrivateKey(Buffer.concat([ED_PKCS8, seed])), msg)
        assert.deepEqual(Buffer.from(ours), Buffer.from(nacl.sign.detached(msg, kp.secretKey)))
        assert.equal(nacl.sign.detached.verify(msg, ours, kp.publicKey), true)
        assert.equal(p.verify('EdDSA', p.importPublicKey(Buffer.concat([ED_SPKI, kp.publicKey])), msg, ours), true)
      }
    })
    it('X25519: the same shared secret', () => {
      for (let i = 0; i < 8; i++) {
        const a = nacl.randomBytes(32)
        const b = nacl.box.keyPair()
        const ours = p.agree(p.importPrivateKey(Buffer.concat([X_PKCS8, a])), b.publicKey)
        assert.deepEqual(Buffer.from(ours), Buffer.from(nacl.scalarMult(a, b.publicKey)))
      }
    })
  })
}
