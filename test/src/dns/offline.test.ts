/** The lab's recorded answers (Knot, checked by delv at recording time) validated offline with a fixed clock. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Clock, fixedClock } from '../../../src/clock.js'
import { parseTrustAnchors } from '../../../src/dns/dnssec/anchors.js'
import { typeFromString } from '../../../src/dns/wire.js'
import { loadLabFixture, replayResolver, replayTransport } from '../../../testkit/dns-replay.js'

const fx = loadLabFixture()
const anchors = parseTrustAnchors(fx.trustAnchors)
/** A resolver over the recorded answers with `clock` (default: the recording time, synced), no cache. */
const make = (clock: Clock = fixedClock(fx.clockMs), trustAnchors = anchors) => {
  const transport = replayTransport(fx.exchanges)
  return { r: replayResolver(fx, transport, { servers: ['127.0.0.1:53'], clock, trustAnchors, cache: null }), transport }
}

/** Flips one bit near the end of dev1's TLSA answer: the last RR is the TLSA RRSIG or a TLSA record. */
const flipInTlsaAnswer = (key: string, bytes: Uint8Array): Uint8Array => {
  if (key !== '52/dev1._device.example.test./udp') return bytes
  const b = new Uint8Array(bytes)
  b[b.length - 20] = (b[b.length - 20] as number) ^ 1
  return b
}

describe('recorded lab answers, validated offline', () => {
  for (const c of fx.cases) {
    it(`${c.name} ${c.type}: ${c.expected}${c.negative === null ? '' : ` ${c.negative}`} like delv (${c.note})`, async () => {
      const { r } = make()
      const a = await r.query(c.name, typeFromString(c.type))
      assert.equal(a.status, c.expected, a.reason)
      assert.equal(a.negative ?? null, c.negative)
    })
  }

  it('the big RSA answer was truncated over UDP and came over TCP', async () => {
    const { r, transport } = make()
    const a = await r.query('dev2._device.rsa.test', 52)
    assert.equal(a.status, 'secure')
    assert.equal(a.tcp, true)
    assert.equal(a.rrset.length, 2)
    assert.ok(transport.log.includes('52/dev2._device.rsa.test./udp') && transport.log.includes('52/dev2._device.rsa.test./tcp'))
  })

  it('a clock that has not synced gives indeterminate, never secure', async () => {
    const { r } = make(fixedClock(fx.clockMs, false))
    const a = await r.query('dev1._device.example.test', 52)
    assert.equal(a.status, 'indeterminate')
    assert.match(a.reason, /clock/)
  })

  it('40 days later every signature has expired: bogus', async () => {
    const { r } = make(fixedClock(fx.clockMs + 40 * 86400_000))
    const a = await r.query('dev1._device.example.test', 52)
    assert.equal(a.status, 'bogus')
    assert.match(a.reason, /expired/)
  })

  it('a plausible but unconfirmed clock (stale fake-hwclock) outside the validity period: indeterminate, not bogus', async () => {
    for (const [offset, name] of [
      [-3 * 86400_000, 'dev1._device.ed.test'],
      [40 * 86400_000, 'dev1._device.example.test'],
    ] as const) {
      const { r } = make(fixedClock(fx.clockMs + offset, true, false))
      const a = await r.query(name, 52)
      assert.equal(a.status, 'indeterminate', a.reason)
      assert.match(a.reason, /not confirmed/)
    }
    // the same clock, data altered: never secure (bogus, or indeterminate when a zone above is itself in time doubt)
    const { r, transport } = make(fixedClock(fx.clockMs + 40 * 86400_000, true, false))
    transport.mutate = flipInTlsaAnswer
    assert.notEqual((await r.query('dev1._device.example.test', 52)).status, 'secure')
  })

  it('before the inception time: bogus', async () => {
    const { r } = make(fixedClock(fx.clockMs - 3 * 86400_000))
    assert.equal((await r.query('dev1._device.ed.test', 52)).status, 'bogus')
  })

  it('one flipped byte in any signed record of the answer makes it bogus', async () => {
    const { r, transport } = make()
    transport.mutate = flipInTlsaAnswer
    const a = await r.query('dev1._device.example.test', 52)
    assert.notEqual(a.status, 'secure')
  })

  it('without the lab anchor (built-in root KSKs only) nothing validates: bogus, never secure', async () => {
    const { r } = make(
      fixedClock(fx.clockMs),
      parseTrustAnchors('. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D'),
    )
    const a = await r.query('dev1._device.example.test', 52)
    assert.equal(a.status, 'bogus')
    assert.match(a.reason, /matches its DS/)
  })

  it('a missing DNSKEY answer (server silent) is indeterminate, not secure or insecure', async () => {
    const { r, transport } = make()
    transport.mutate = (key, bytes) => {
      if (key === '48/example.test./udp') throw Object.assign(new Error('down'), {})
      return bytes
    }
    const a = await r.query('dev1._device.example.test', 52)
    assert.equal(a.status, 'indeterminate')
  })

  it('lookupTlsa parses the records', async () => {
    const { r } = make()
    const t = await r.lookupTlsa('dev1._device.example.test.')
    assert.equal(t.status, 'secure')
    assert.deepEqual(t.records.map((x) => `${x.usage} ${x.selector} ${x.matchingType}`).sort(), ['3 0 0', '3 1 1'])
    assert.ok(t.ttl > 0 && t.ttl <= 30)
  })
})
