/** Round trips: both providers seal and open every profile, serialization and key type, across providers. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { getProvider } from '../../../src/crypto/get-provider.js'
import { identity, NOW, openerFor, READING, RECIPIENT, SENDER, sealerFor } from '../../../testkit/message-fixtures.js'

const providers = [getProvider('node'), getProvider('noble')]
const cases = [
  { profile: 'compact', type: 'p256' },
  { profile: 'compact', type: 'ed25519' },
  { profile: 'valimail', type: 'rsa' },
] as const

for (const c of cases) {
  describe(`${c.profile} with ${c.type} keys`, () => {
    for (const sp of providers) {
      for (const op of providers) {
        for (const serialization of ['compact', 'json'] as const) {
          it(`${sp.name} seals, ${op.name} opens (${serialization})`, async () => {
            const from = identity(SENDER, c.type)
            const to = identity(RECIPIENT, c.type)
            const sealed = sealerFor(sp, from, to, { serialization }).seal(READING, { now: NOW, seq: 42 })
            assert.equal(sealed.startsWith('{'), serialization === 'json')
            const opened = await openerFor(op, to, [from]).open(sealed)
            assert.equal(opened.from, SENDER)
            assert.equal(opened.profile, c.profile)
            assert.equal(opened.serialization, serialization)
            assert.deepEqual(opened.claims, { aud: RECIPIENT, iat: NOW / 1000, seq: 42, r: READING })
            assert.deepEqual(opened.reading, READING)
          })
        }
      }
    }
  })
}

describe('sealer details', () => {
  const node = getProvider('node')
  it('carries bytes in the b claim and returns them as payload', async () => {
    const from = identity(SENDER, 'p256')
    const to = identity(RECIPIENT, 'p256')
    const bytes = new Uint8Array([0, 1, 2, 250, 255])
    const opened = await openerFor(node, to, [from]).open(sealerFor(node, from, to).seal(bytes, { now: NOW, seq: 1 }))
    assert.deepEqual(opened.payload, bytes)
  })
  it('adds iss and the recipient x5u only when asked', async () => {
    const from = identity(SENDER, 'p256')
    const to = identity(RECIPIENT, 'p256')
    const sealed = sealerFor(node, from, to, { includeIss: true, recipientX5u: true }).seal({ v: 1 }, { now: NOW, seq: 7 })
    const header = JSON.parse(Buffer.from(sealed.split('.')[0] as string, 'base64url').toString())
    assert.equal(header.x5u, `dns://${RECIPIENT}?type=TLSA`)
    const opened = await openerFor(node, to, [from]).open(sealed)
    assert.equal(opened.claims?.iss, SENDER)
  })
  it('a reading under r never collides with claims: its own aud, exp, seq and b are data', async () => {
    const from = identity(SENDER, 'p256')
    const to = identity(RECIPIENT, 'p256')
    const s = sealerFor(node, from, to)
    const reading = { aud: 'x', exp: 1, seq: 2, iat: 'then', b: 'not bytes', r: { nested: true } }
    const opened = await openerFor(node, to, [from]).open(s.seal(reading, { now: NOW, seq: 1 }))
    assert.equal(opened.claims?.seq, 1)
    assert.equal(opened.claims?.aud, RECIPIENT)
    assert.deepEqual(opened.reading, reading)
    assert.equal(opened.payload, undefined)
    assert.throws(() => s.seal({}, { now: NOW, seq: -1 }), RangeError)
    assert.throws(() => s.seal([1, 2] as unknown as object, { now: NOW, seq: 1 }), { code: 'ERR_USAGE' })
  })
  it('refuses a profile that does not fit the keys', () => {
    assert.throws(() => sealerFor(node, identity(SENDER, 'p256'), identity(RECIPIENT, 'rsa')), { code: 'ERR_KEY_UNSUPPORTED' })
    assert.throws(() => sealerFor(node, identity(SENDER, 'rsa'), identity(RECIPIENT, 'p256')), { code: 'ERR_KEY_UNSUPPORTED' })
    assert.throws(() => sealerFor(node, identity(SENDER, 'p256'), identity(RECIPIENT, 'p256'), { profile: 'valimail' }), {
      code: 'ERR_KEY_UNSUPPORTED',
    })
  })
  it('a valimail raw payload opens only with allowUnbound', async () => {
    const from = identity(SENDER, 'rsa')
    const to = identity(RECIPIENT, 'rsa')
    const sealed = sealerFor(node, from, to, { raw: true }).seal(Buffer.from('hello world'), { now: NOW, seq: 0 })
    await assert.rejects(openerFor(node, to, [from]).open(sealed), { code: 'ERR_UNBOUND_REFUSED' })
    const opened = await openerFor(node, to, [from], { allowUnbound: true }).open(sealed)
    assert.equal(Buffer.from(opened.payload as Uint8Array).toString(), 'hello world')
    assert.equal(opened.claims, undefined)
  })
})

describe('opener key cache', () => {
  // A gateway hears thousands of senders: a key cache smaller than that imports a key on every reading.
  const counting = (): { provider: ReturnType<typeof getProvider>; imports: () => number } => {
    const base = getProvider('node')
    let n = 0
    const provider = {
      ...base,
      importPublicKey: (spki: Uint8Array) => {
        n++
        return base.importPublicKey(spki)
      },
    }
    return { provider, imports: () => n }
  }
  const senders = [0, 1, 2].map((i) => identity(`s${i}.airquality._device.example.com`, 'p256'))
  const to = identity(RECIPIENT, 'p256')
  const node = getProvider('node')
  const messages = senders.map((s, i) => sealerFor(node, s, to).seal(READING, { now: NOW, seq: 100 + i }))

  for (const [size, want] of [
    [2, 9],
    [3, 3],
  ] as const) {
    it(`keyCacheSize ${size}, three senders in turn, three rounds: ${want} imports`, async () => {
      const c = counting()
      const opener = openerFor(c.provider, to, senders, { keyCacheSize: size, replay: { check: () => true } })
      for (let round = 0; round < 3; round++) for (const m of messages) assert.ok((await opener.open(m)).from.startsWith('s'))
      assert.equal(c.imports(), want)
    })
  }
})
