/** Unbound messages: the workshop's encode.py output and the original valimail payloads, opened only under LEGACY_DOMAINS, replays refused. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { fixedClock } from '../../../src/clock.js'
import { getProvider } from '../../../src/crypto/get-provider.js'
import { createDigestWindow, messageDigest, parseWorkshopX5u, unwrapWorkshop } from '../../../src/message/legacy.js'
import { certificateResolver, certificatesFromBytes } from '../../../src/message/offline.js'
import { createOpener, type OpenerOptions } from '../../../src/message/open.js'
import { createReplayWindow } from '../../../src/message/replay.js'
import { loadPrivateKey } from '../../../src/x509/keys.js'
import { identity, NOW, openerFor, RECIPIENT, SENDER, sealerFor } from '../../../testkit/message-fixtures.js'
import { makeTempDir } from '../../../testkit/paths.js'
import { makeWorkshopFixture } from '../../../testkit/workshop.js'

// identities by the workshop's identity script and messages by its encode.py, made now in a temp dir
const tmp = makeTempDir('daneel-workshop-')
after(() => tmp.cleanup())
const fx = makeWorkshopFixture(tmp.dir)
const node = getProvider('node')

function workshopOpener(extra: Partial<OpenerOptions> = {}) {
  const certs = certificatesFromBytes(readFileSync(fx.cert(fx.sender)))
  return createOpener({
    provider: node,
    recipientName: fx.recipient,
    recipientKey: loadPrivateKey(readFileSync(fx.key(fx.recipient), 'utf8')),
    resolveSender: certificateResolver(certs).resolve,
    trustedDomains: ['example.test'],
    clock: fixedClock(NOW),
    replay: createReplayWindow(),
    ...extra,
  })
}

describe("the DEF CON 29 workshop's encode.py messages (made at test time by its own code, testkit/workshop.ts)", () => {
  it('are standard base64 of a flattened JSON JWE, told apart from the other forms', () => {
    const inner = unwrapWorkshop(fx.messages[0]?.sealed as string)
    assert.ok(inner?.startsWith('{'))
    assert.equal(JSON.parse(Buffer.from(JSON.parse(inner as string).protected, 'base64url').toString()).x5u, undefined)
    assert.equal(unwrapWorkshop('{"protected":"x"}'), undefined)
    assert.equal(unwrapWorkshop('eyJhbGciOiJFQ0RILUVTIn0.a.b.c.d'), undefined)
    assert.equal(unwrapWorkshop('eyJhbGc'), undefined, 'not a whole number of base64 quads')
  })

  for (const [i, m] of fx.messages.entries()) {
    it(`message ${i} opens under LEGACY_DOMAINS with the sender verified, and says what it is`, async () => {
      const opened = await workshopOpener({ legacyDomains: ['workshop._device.example.test'] }).open(m.sealed)
      assert.equal(opened.from, fx.sender)
      assert.equal(opened.profile, 'workshop')
      assert.equal(opened.serialization, 'json')
      assert.equal(opened.claims, undefined)
      assert.equal(Buffer.from(opened.payload as Uint8Array).toString('utf8'), m.text)
      assert.equal(opened.digest, messageDigest(m.sealed))
    })
  }

  it('is refused without the opt-in, or when the sender is not under LEGACY_DOMAINS, or untrusted', async () => {
    const m = fx.messages[0]?.sealed as string
    await assert.rejects(workshopOpener().open(m), { code: 'ERR_UNBOUND_REFUSED' })
    await assert.rejects(workshopOpener({ legacyDomains: ['other.test'] }).open(m), { code: 'ERR_UNBOUND_REFUSED' })
    await assert.rejects(workshopOpener({ legacyDomains: ['example.test'], trustedDomains: ['other.test'] }).open(m), {
      code: 'ERR_SENDER_UNTRUSTED',
    })
  })

  it('--allow-unbound (allowUnbound) is LEGACY_DOMAINS = TRUSTED_DOMAINS', async () => {
    const opened = await workshopOpener({ allowUnbound: true }).open(fx.messages[1]?.sealed as string)
    assert.equal(opened.from, fx.sender)
  })

  it('a byte-exact replay is refused; a tampered copy fails decryption', async () => {
    const opener = workshopOpener({ legacyDomains: ['example.test'] })
    const m = fx.messages[0]?.sealed as string
    await opener.open(m)
    await assert.rejects(opener.open(m), { code: 'ERR_REPLAY' })
    const jwe = JSON.parse(Buffer.from(m, 'base64').toString()) as Record<string, string>
    const ct = Buffer.from(jwe.ciphertext as string, 'base64url')
    ct[0] = (ct[0] as number) ^ 1
    const tampered = Buffer.from(JSON.stringify({ ...jwe, ciphertext: ct.toString('base64url') })).toString('base64')
    await assert.rejects(opener.open(tampered), { code: 'ERR_JWE_DECRYPT' })
  })

  it('the sender x5u is the bare name (dots at either end stripped, as decode.py does), or a dns: URI', () => {
    assert.equal(parseWorkshopX5u('WS1.Workshop._device.example.test.'), 'ws1.workshop._device.example.test')
    assert.equal(parseWorkshopX5u('dns://a._device.x.org?type=TLSA'), 'a._device.x.org')
    assert.throws(() => parseWorkshopX5u('not a name'), { code: 'ERR_X5U_INVALID' })
  })
})

describe('--profile workshop and the original valimail payloads', () => {
  it('a workshop seal opens back: RS256 with the bare-name x5u inside RSA-OAEP-256/A256CBC-HS512 without x5u', async () => {
    const from = identity(SENDER, 'rsa')
    const to = identity(RECIPIENT, 'rsa')
    const sealed = sealerFor(node, from, to, { profile: 'workshop' }).seal(Buffer.from('hello'), { now: NOW, seq: 0 })
    assert.match(sealed, /^eyJ[A-Za-z0-9+/]+=*$/)
    const jwe = JSON.parse(Buffer.from(sealed, 'base64').toString()) as Record<string, string>
    assert.deepEqual(JSON.parse(Buffer.from(jwe.protected as string, 'base64url').toString()), {
      alg: 'RSA-OAEP-256',
      enc: 'A256CBC-HS512',
      typ: 'JWE',
    })
    const opened = await openerFor(node, to, [from], { legacyDomains: ['example.com'] }).open(sealed)
    assert.equal(Buffer.from(opened.payload as Uint8Array).toString(), 'hello')
    assert.equal(opened.profile, 'workshop')
  })

  it('a valimail payload without claims: only under LEGACY_DOMAINS; a claims-bound one needs no opt-in', async () => {
    const from = identity(SENDER, 'rsa')
    const to = identity(RECIPIENT, 'rsa')
    const raw = sealerFor(node, from, to, { raw: true }).seal(Buffer.from('{"temp":21}'), { now: NOW, seq: 0 })
    await assert.rejects(openerFor(node, to, [from]).open(raw), { code: 'ERR_UNBOUND_REFUSED' })
    await assert.rejects(openerFor(node, to, [from], { legacyDomains: ['other.com'] }).open(raw), { code: 'ERR_UNBOUND_REFUSED' })
    const opened = await openerFor(node, to, [from], { legacyDomains: ['airquality._device.example.com'] }).open(raw)
    assert.equal(Buffer.from(opened.payload as Uint8Array).toString(), '{"temp":21}')
    const bound = sealerFor(node, from, to).seal({ temp: 21 }, { now: NOW, seq: 1 })
    assert.equal((await openerFor(node, to, [from]).open(bound)).reading?.temp, 21)
  })

  it('an RSA sender sealing to a P-256 recipient is told what to do', () => {
    assert.throws(
      () => sealerFor(node, identity(SENDER, 'rsa'), identity(RECIPIENT, 'p256')),
      (err: Error & { code?: string }) =>
        err.code === 'ERR_KEY_UNSUPPORTED' && /identity create --key-type p256/.test(err.message) && /rsa2048 identity/.test(err.message),
    )
    assert.throws(() => sealerFor(node, identity(SENDER, 'rsa'), identity(RECIPIENT, 'p256'), { profile: 'workshop' }), {
      code: 'ERR_KEY_UNSUPPORTED',
      message: /encrypts only to RSA: leave --profile out/,
    })
  })
})

describe('the in-memory digest window', () => {
  it('refuses the same digest within the window, accepts it after, and holds at most maxEntries', () => {
    const w = createDigestWindow(1000, 3)
    assert.equal(w.check('a', 0), true)
    assert.equal(w.check('a', 999), false)
    assert.equal(w.check('a', 1000), true, 'after the window')
    for (const d of ['b', 'c', 'd']) assert.equal(w.check(d, 1001), true)
    assert.equal(w.size(), 3)
    assert.equal(w.check('a', 1002), true, 'the oldest was forgotten at the cap')
  })
})
