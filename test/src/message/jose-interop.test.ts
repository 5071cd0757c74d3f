/** Interop with panva/jose in both directions, for every profile: jose opens what we seal; we open what jose seals. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as jose from 'jose'
import { getProvider } from '../../../src/crypto/get-provider.js'
import {
  type Identity,
  identity,
  NOW,
  openerFor,
  READING,
  RECIPIENT,
  SENDER,
  sealerFor,
  x25519PrivateOf,
} from '../../../testkit/message-fixtures.js'

const providers = [getProvider('node'), getProvider('noble')]
const x5u = (name: string): string => `dns://${name}?type=TLSA`
const claims = { aud: RECIPIENT, iat: NOW / 1000, seq: 42, r: READING }

/** jose's view of our message: decrypt with the recipient key, verify with the sender key, check aud. */
async function joseOpen(
  sealed: string,
  from: Identity,
  to: Identity,
): Promise<{ payload: unknown; header: jose.JWSHeaderParameters; outer: jose.JWEHeaderParameters }> {
  const decKey = to.type === 'ed25519' ? x25519PrivateOf(to) : to.privateKey
  const dec = sealed.startsWith('{') ? await jose.flattenedDecrypt(JSON.parse(sealed), decKey) : await jose.compactDecrypt(sealed, decKey)
  const inner = Buffer.from(dec.plaintext).toString()
  const ver = inner.startsWith('{')
    ? await jose.flattenedVerify(JSON.parse(inner), from.publicKey)
    : await jose.compactVerify(inner, from.publicKey)
  const payload = JSON.parse(Buffer.from(ver.payload).toString())
  assert.equal(payload.aud, RECIPIENT)
  return { payload, header: ver.protectedHeader as jose.JWSHeaderParameters, outer: dec.protectedHeader as jose.JWEHeaderParameters }
}

/** jose builds a message the way docs/contract.md "Wire format" describes it. */
async function joseSeal(
  from: Identity,
  to: Identity,
  serialization: 'compact' | 'json',
  seq: number,
  set: Record<string, unknown> = { ...claims, seq },
): Promise<string> {
  const body = new TextEncoder().encode(JSON.stringify(set))
  if (to.type === 'rsa') {
    const jws =
      serialization === 'json'
        ? JSON.stringify(await new jose.FlattenedSign(body).setProtectedHeader({ alg: 'RS256', x5u: x5u(from.name) }).sign(from.privateKey))
        : await new jose.CompactSign(body).setProtectedHeader({ alg: 'RS256', x5u: x5u(from.name) }).sign(from.privateKey)
    const hdr = { alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512', typ: 'JWE', x5u: x5u(to.name) }
    const pt = new TextEncoder().encode(jws)
    return serialization === 'json'
      ? JSON.stringify(await new jose.FlattenedEncrypt(pt).setProtectedHeader(hdr).encrypt(to.publicKey))
      : await new jose.CompactEncrypt(pt).setProtectedHeader(hdr).encrypt(to.publicKey)
  }
  const alg = from.type === 'p256' ? 'ES256' : 'EdDSA'
  const jwt = await new jose.SignJWT(set).setProtectedHeader({ alg, x5u: x5u(from.name) }).sign(from.privateKey)
  const encKey = to.type === 'ed25519' ? (await import('node:crypto')).createPublicKey(x25519PrivateOf(to)) : to.publicKey
  const hdr = { alg: 'ECDH-ES', enc: 'A256GCM', cty: 'JWT' }
  const pt = new TextEncoder().encode(jwt)
  return serialization === 'json'
    ? JSON.stringify(await new jose.FlattenedEncrypt(pt).setProtectedHeader(hdr).encrypt(encKey))
    : await new jose.CompactEncrypt(pt).setProtectedHeader(hdr).encrypt(encKey)
}

const cases = [
  { profile: 'compact', type: 'p256' },
  { profile: 'compact', type: 'ed25519' },
  { profile: 'valimail', type: 'rsa' },
] as const

for (const c of cases) {
  describe(`jose interop: ${c.profile} with ${c.type} keys`, () => {
    const from = identity(SENDER, c.type)
    const to = identity(RECIPIENT, c.type)
    for (const p of providers) {
      for (const serialization of ['compact', 'json'] as const) {
        it(`jose opens what ${p.name} seals (${serialization})`, async () => {
          const sealed = sealerFor(p, from, to, { serialization }).seal(READING, { now: NOW, seq: 42 })
          const got = await joseOpen(sealed, from, to)
          assert.deepEqual(got.payload, claims)
          assert.equal(got.header.x5u, x5u(SENDER))
          if (c.profile === 'valimail')
            assert.deepEqual(got.outer, { alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512', typ: 'JWE', x5u: x5u(RECIPIENT) })
          else assert.equal(got.outer.cty, 'JWT')
        })
        it(`${p.name} opens what jose seals (${serialization})`, async () => {
          const opened = await openerFor(p, to, [from]).open(await joseSeal(from, to, serialization, 5))
          assert.equal(opened.from, SENDER)
          assert.equal(opened.serialization, serialization)
          assert.deepEqual(opened.claims, { ...claims, seq: 5 })
          assert.deepEqual(opened.reading, READING)
        })
        it(`${p.name} opens the top-level form of devices deployed before the r claim (${serialization})`, async () => {
          const { seq: _readingSeq, ...members } = READING as Record<string, unknown>
          const old = { aud: RECIPIENT, iat: NOW / 1000, seq: 6, ...members }
          const opened = await openerFor(p, to, [from]).open(await joseSeal(from, to, serialization, 6, old))
          assert.deepEqual(opened.claims, old)
          assert.deepEqual(opened.reading, members)
        })
      }
    }
  })
}

describe("the valimail header bytes are exactly docs/contract.md's", () => {
  it('protected header decodes to the byte string of the original system', () => {
    const from = identity(SENDER, 'rsa')
    const to = identity(RECIPIENT, 'rsa')
    const sealed = JSON.parse(sealerFor(getProvider('node'), from, to).seal(READING, { now: NOW, seq: 42 }))
    assert.deepEqual(Object.keys(sealed), ['protected', 'encrypted_key', 'iv', 'ciphertext', 'tag'])
    assert.equal(
      Buffer.from(sealed.protected, 'base64url').toString(),
      `{"alg":"RSA-OAEP-256","enc":"A256CBC-HS512","typ":"JWE","x5u":"dns://${RECIPIENT}?type=TLSA"}`,
    )
  })
})
