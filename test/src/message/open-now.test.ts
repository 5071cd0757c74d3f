/** The synchronous open (`openNow` with a cached sender key) gives exactly what the promise path gives, value or error code. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import * as jose from 'jose'
import { fixedClock } from '../../../src/clock.js'
import { getProvider } from '../../../src/crypto/get-provider.js'
import { certificateResolver, certificatesFromBytes } from '../../../src/message/offline.js'
import { createOpener, type OpenedMessage, type OpenerOptions, type ResolvedSender } from '../../../src/message/open.js'
import { createReplayWindow } from '../../../src/message/replay.js'
import { loadPrivateKey } from '../../../src/x509/keys.js'
import { identity, NOW, READING, RECIPIENT, SENDER, sealerFor } from '../../../testkit/message-fixtures.js'
import { makeTempDir } from '../../../testkit/paths.js'
import { makeWorkshopFixture } from '../../../testkit/workshop.js'
import { encryptTo, signJws } from './attacker.js'

const X5U = `dns://${SENDER}?type=TLSA`
const from = identity(SENDER, 'p256')
const to = identity(RECIPIENT, 'p256')
const claims = (extra: Record<string, unknown> = {}) => ({ r: READING, aud: RECIPIENT, iat: NOW / 1000, seq: 1, ...extra })
const jws = (extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signJws({ alg: 'ES256', x5u: X5U, ...header }, claims(extra), from.privateKey)
const enc = (plaintext: string, header: Record<string, unknown> = {}) => encryptTo(to.publicKey, { header, plaintext })
const other = identity('mallory._device.example.com', 'p256')

type Outcome = { value: OpenedMessage } | { code: string }
const outcome = async (f: () => OpenedMessage | Promise<OpenedMessage>): Promise<Outcome> => {
  try {
    return { value: await f() }
  } catch (err) {
    return { code: String((err as { code?: string }).code ?? err) }
  }
}

/** Two openers alike but for `peek`: one answers from its table at once, the other only through the promise. */
function twins(provider = getProvider('node'), extra: Partial<OpenerOptions> = {}) {
  const table = new Map<string, ResolvedSender>([[SENDER, { spki: from.spki, auth: 'dnssec' }]])
  const resolve = async (name: string): Promise<ResolvedSender> => {
    const r = table.get(name)
    if (r === undefined) throw Object.assign(new Error(`unknown ${name}`), { code: 'ERR_TLSA_NONE' })
    return r
  }
  const make = (peek: boolean) =>
    createOpener({
      provider,
      recipientName: RECIPIENT,
      recipientKey: to.privateKey,
      trustedDomains: ['example.com'],
      clock: fixedClock(NOW),
      replay: createReplayWindow(),
      resolveSender: peek ? Object.assign(resolve, { peek: (n: string) => table.get(n) }) : async (n) => resolve(n),
      ...extra,
    })
  return { fast: make(true), slow: make(false) }
}

/** Every message through both: the fast one must answer synchronously (a value or a throw), with the same outcome. */
async function same(messages: string[], pair = twins()): Promise<void> {
  for (const m of messages) {
    let returned: unknown
    const fast = await outcome(() => {
      returned = pair.fast.openNow(m)
      return returned as OpenedMessage
    })
    const slow = await outcome(() => pair.slow.open(m))
    // only a sender the table does not hold is looked up (a promise); every other message is answered at once
    if (returned instanceof Promise) assert.deepEqual(fast, { code: 'ERR_TLSA_NONE' })
    assert.deepEqual(fast, slow, m.slice(0, 40))
  }
}

for (const provider of [getProvider('node'), getProvider('noble')]) {
  describe(`openNow and open agree (${provider.name} provider)`, () => {
    it('on our own seals, their replays and their re-encryptions', async () => {
      const sealer = sealerFor(provider, from, to)
      const a = sealer.seal(READING, { now: NOW, seq: 7 })
      const b = sealer.seal(new Uint8Array([1, 2, 3]), { now: NOW, seq: 8 })
      await same([a, b, a, sealer.seal(READING, { now: NOW, seq: 7 })], twins(provider))
    })
    it("on the attacker kit's refusals (node:crypto built, not our code)", async () => {
      await same(
        [
          enc(jws()),
          enc(jws({ aud: 'someone.else._device.example.com' })),
          enc(jws({ iss: 'other._device.example.com' })),
          enc(signJws({ alg: 'none', x5u: X5U }, claims(), null)),
          enc(signJws({ alg: 'HS256', x5u: X5U }, claims(), { hmac: from.spki })),
          enc(jws({}, { alg: 'EdDSA' })),
          enc(jws({ seq: 2 }), { alg: 'dir' }),
          enc(jws({ seq: 3 }), { zip: 'DEF' }),
          enc(jws({ seq: 4 }, { crit: ['b64'], b64: false })),
          enc(jws({ seq: 5, iat: NOW / 1000 - 30 * 86400 })),
          enc(jws({ seq: 6, iat: NOW / 1000 + 3600 })),
          enc(jws({ seq: -1 })),
          enc(jws({ r: [1], seq: 9 })),
          enc(signJws({ alg: 'ES256', x5u: X5U }, claims({ seq: 10 }), other.privateKey)),
          enc(signJws({ alg: 'ES256', x5u: 'dns://x._device.evil.example.org?type=TLSA' }, claims(), from.privateKey)),
          enc(signJws({ alg: 'ES256', x5u: 'dns://unknown._device.example.com?type=TLSA' }, claims(), from.privateKey)),
          enc(`${jws({ seq: 11 }).slice(0, -4)}AAAA`),
          'not a JWE',
          `${enc(jws({ seq: 12 })).slice(0, -2)}AA`,
          'a'.repeat(20_000),
        ],
        twins(provider),
      )
    })
  })
}

describe('openNow and open agree on messages from outside our code', () => {
  it('jose-sealed messages (compact and JSON), with jose as the oracle of the format', async () => {
    const body = new TextEncoder().encode(JSON.stringify(claims({ seq: 40 })))
    const inner = await new jose.CompactSign(body).setProtectedHeader({ alg: 'ES256', x5u: X5U }).sign(from.privateKey)
    const pt = new TextEncoder().encode(inner)
    const hdr = { alg: 'ECDH-ES', enc: 'A256GCM', cty: 'JWT' }
    const compact = await new jose.CompactEncrypt(pt).setProtectedHeader(hdr).encrypt(to.publicKey)
    const json = JSON.stringify(await new jose.FlattenedEncrypt(pt).setProtectedHeader(hdr).encrypt(to.publicKey))
    await same([compact, json, compact])
  })
  it("the DEF CON 29 workshop's encode.py messages (made now by its own code, testkit/workshop.ts), offline certificates", async () => {
    const tmp = makeTempDir('daneel-open-now-workshop-')
    after(() => tmp.cleanup())
    const fx = makeWorkshopFixture(tmp.dir)
    const resolver = certificateResolver(certificatesFromBytes(readFileSync(fx.cert(fx.sender)))).resolve
    const make = (peek: boolean) =>
      createOpener({
        provider: getProvider('node'),
        recipientName: fx.recipient,
        recipientKey: loadPrivateKey(readFileSync(fx.key(fx.recipient), 'utf8')),
        resolveSender: peek ? resolver : async (n) => resolver(n),
        trustedDomains: ['example.test'],
        legacyDomains: ['example.test'],
        clock: fixedClock(NOW),
        replay: createReplayWindow(),
      })
    const msgs = fx.messages.map((m) => m.sealed)
    assert.ok(msgs.length > 0)
    await same([...msgs, msgs[0] as string], { fast: make(true), slow: make(false) })
  })
})

describe('openNow: when it needs a promise', () => {
  it('a sender not cached is looked up once (a promise), then opened at once while the answer is cached', async () => {
    let lookups = 0
    let cached: ResolvedSender | undefined
    const opener = createOpener({
      provider: getProvider('node'),
      recipientName: RECIPIENT,
      recipientKey: to.privateKey,
      trustedDomains: ['example.com'],
      clock: fixedClock(NOW),
      replay: createReplayWindow(),
      resolveSender: Object.assign(
        async () => {
          lookups++
          cached = { spki: from.spki, auth: 'dnssec' as const }
          return cached
        },
        { peek: () => cached },
      ),
    })
    const sealer = sealerFor(getProvider('node'), from, to)
    const first = opener.openNow(sealer.seal(READING, { now: NOW, seq: 1 }))
    assert.ok(first instanceof Promise)
    assert.equal((await first).seq, 1)
    const second = opener.openNow(sealer.seal(READING, { now: NOW, seq: 2 }))
    assert.ok(!(second instanceof Promise))
    assert.equal(second.seq, 2)
    assert.equal(lookups, 1)
    // an untrusted sender is refused synchronously, before any lookup
    assert.throws(
      () => opener.openNow(enc(signJws({ alg: 'ES256', x5u: 'dns://x._device.evil.example.org?type=TLSA' }, claims(), from.privateKey))),
      { code: 'ERR_SENDER_UNTRUSTED' },
    )
    assert.equal(lookups, 1)
  })
})
