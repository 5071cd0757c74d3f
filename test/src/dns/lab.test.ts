/** Integration: our resolver against a live Knot lab, every case agreeing with delv on the same server. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { systemClock } from '../../../src/clock.js'
import { loadTrustAnchors } from '../../../src/dns/dnssec/anchors.js'
import { createResolver, type Resolver } from '../../../src/dns/resolver.js'
import { typeFromString } from '../../../src/dns/wire.js'
import { delv } from '../../../testkit/dns-lab/delv.js'
import { LAB_CASES } from '../../../testkit/dns-lab/record.js'
import { type DnsLab, startDnsLab } from '../../../testkit/dns-lab.js'

const EXPECTED: Record<string, 'secure' | 'insecure' | 'bogus'> = {
  'tampered._device.example.test. TLSA': 'bogus',
  'expired._device.example.test. TLSA': 'bogus',
  'dev1._device.badds.test. TLSA': 'bogus',
  'dev1._device.insecure.test. TLSA': 'insecure',
  'dev1._device.unsigned.optout.test. TLSA': 'insecure',
  'toinsecure._device.example.test. TLSA': 'insecure',
}

describe('resolver against a live Knot lab, checked by delv', () => {
  let lab: DnsLab
  let r: Resolver
  before(async () => {
    lab = await startDnsLab({
      records: {
        'insecure.test.': ['dev9.airquality._device IN TLSA 3 1 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'],
      },
    })
    r = createResolver({ servers: [lab.server], clock: systemClock, trustAnchors: loadTrustAnchors(lab.trustAnchorsFile), timeoutMs: 2000 })
  })
  after(async () => {
    await lab?.stop()
  })

  for (const c of LAB_CASES) {
    const expected = EXPECTED[`${c.name} ${c.type}`] ?? 'secure'
    it(`${c.name} ${c.type} is ${expected}, as delv says (${c.note})`, async () => {
      const [ours, theirs] = await Promise.all([
        r.query(c.name, typeFromString(c.type)),
        delv(lab.port, lab.delvAnchorsFile, c.name, c.type),
      ])
      assert.equal(theirs.verdict, expected, theirs.lines.join('\n'))
      assert.equal(ours.status, theirs.verdict, ours.reason)
    })
  }

  it('an answer too big for UDP (1313 B > 1232) comes over TCP, complete with RRSIG', async () => {
    const fresh = createResolver({ servers: [lab.server], clock: systemClock, trustAnchors: loadTrustAnchors(lab.trustAnchorsFile) })
    const a = await fresh.query('dev2._device.rsa.test', 52)
    assert.equal(a.status, 'secure')
    assert.equal(a.tcp, true)
    assert.equal(fresh.stats.tcp, 1)
  })

  it('works over IPv6 to the same server', async () => {
    const v6 = createResolver({ servers: [lab.server6], clock: systemClock, trustAnchors: loadTrustAnchors(lab.trustAnchorsFile) })
    assert.equal((await v6.query('dev1._device.ed.test', 52)).status, 'secure')
  })

  it('falls over to the next server when the first does not answer', async () => {
    const two = createResolver({
      servers: ['127.0.0.1:9', lab.server],
      clock: systemClock,
      trustAnchors: loadTrustAnchors(lab.trustAnchorsFile),
      timeoutMs: 300,
    })
    assert.equal((await two.query('dev1._device.example.test', 52)).status, 'secure')
  })

  it('records added, changed and removed with setRecords are served and validated (secure and insecure zones)', async () => {
    const fresh = () => createResolver({ servers: [lab.server], clock: systemClock, trustAnchors: loadTrustAnchors(lab.trustAnchorsFile) })
    const name = 'dev1.airquality._device.example.test'
    assert.equal((await fresh().query(name, 52)).negative, 'nxdomain')
    await lab.setRecords('example.test.', 'dev1.airquality._device', 'TLSA', [lab.certs.dev1.tlsa311, lab.certs.dev2.tlsa311])
    const t = await fresh().lookupTlsa(name)
    assert.equal(t.status, 'secure', t.reason)
    assert.equal(t.records.length, 2)
    assert.equal((await delv(lab.port, lab.delvAnchorsFile, name, 'TLSA')).verdict, 'secure')
    await lab.removeRecords('example.test.', 'dev1.airquality._device', 'TLSA')
    const gone = await fresh().query(name, 52)
    assert.equal(gone.status, 'secure')
    assert.equal(gone.negative, 'nxdomain')
    const ins = await fresh().lookupTlsa('dev9.airquality._device.insecure.test')
    assert.equal(ins.status, 'insecure')
    assert.equal(ins.records.length, 1)
  })
})

describe('stripped signatures, live', () => {
  let lab: DnsLab
  before(async () => {
    lab = await startDnsLab()
  })
  after(async () => {
    await lab?.stop()
  })

  it('an answer whose RRSIGs an on-path attacker strips is bogus: the walk down proves example.test. signed', async () => {
    const { netTransport } = await import('../../../src/dns/transport.js')
    const { decodeMessage, encodeMessage, TYPE } = await import('../../../src/dns/wire.js')
    const r = createResolver({
      servers: [lab.server],
      clock: systemClock,
      trustAnchors: loadTrustAnchors(lab.trustAnchorsFile),
      transport: {
        async exchange(x) {
          const bytes = await netTransport.exchange(x)
          if (x.question.type !== 52) return bytes
          const m = decodeMessage(bytes)
          m.answers = m.answers.filter((rr) => rr.type !== TYPE.RRSIG)
          return encodeMessage(m)
        },
      },
    })
    const a = await r.query('dev1._device.example.test', 52)
    assert.equal(a.status, 'bogus', a.reason)
    assert.match(a.reason, /no RRSIG but example\.test\. is signed/)
  })
})
