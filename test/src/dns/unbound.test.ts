/** Through a real validating Unbound on loopback: DNSSEC=resolver trusts its AD bit; our own validation works through it (CD set). */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { systemClock } from '../../../src/clock.js'
import { loadTrustAnchors } from '../../../src/dns/dnssec/anchors.js'
import { createResolver } from '../../../src/dns/resolver.js'
import { rejectsCode } from '../../../testkit/assert-code.js'
import { type LabUnbound, startUnbound } from '../../../testkit/dns-lab/unbound.js'
import { type DnsLab, startDnsLab } from '../../../testkit/dns-lab.js'

/** Starts a DNS lab and a validating Unbound in front of it for the enclosing describe; stops both after it. */
function labBehindUnbound(): { lab: DnsLab; ub: LabUnbound } {
  const peers: Partial<{ lab: DnsLab; ub: LabUnbound }> = {}
  before(async () => {
    peers.lab = await startDnsLab()
    peers.ub = await startUnbound(peers.lab)
  })
  after(async () => {
    await peers.ub?.stop()
    await peers.lab?.stop()
  })
  return {
    get lab(): DnsLab {
      assert.ok(peers.lab, 'the DNS lab has started')
      return peers.lab
    },
    get ub(): LabUnbound {
      assert.ok(peers.ub, 'Unbound has started')
      return peers.ub
    },
  }
}

describe('behind a validating Unbound', () => {
  const peers = labBehindUnbound()

  it('DNSSEC=resolver: secure with AD, insecure without, bogus answers never reach us (SERVFAIL → ERR_DNS_SERVFAIL)', async () => {
    const r = createResolver({ servers: [peers.ub.server], clock: systemClock, trustAnchors: [], mode: 'resolver', retries: 0 })
    const sec = await r.lookupTlsa('dev1._device.example.test')
    assert.equal(sec.status, 'secure')
    assert.equal(sec.records.length, 2)
    assert.equal((await r.lookupTlsa('dev1._device.insecure.test')).status, 'insecure')
    await rejectsCode(r.query('tampered._device.example.test', 52), 'ERR_DNS_SERVFAIL')
  })

  it('validate mode through the recursive resolver (CD set): the same verdicts as against the authoritative server', async () => {
    const r = createResolver({ servers: [peers.ub.server], clock: systemClock, trustAnchors: loadTrustAnchors(peers.lab.trustAnchorsFile) })
    const cases: Array<[string, number, string]> = [
      ['dev1._device.example.test', 52, 'secure'],
      ['dev2._device.rsa.test', 52, 'secure'],
      ['dev1._device.ed.test', 52, 'secure'],
      ['tampered._device.example.test', 52, 'bogus'],
      ['expired._device.example.test', 52, 'bogus'],
      ['dev1._device.badds.test', 52, 'bogus'],
      ['dev1._device.insecure.test', 52, 'insecure'],
      ['nx._device.rsa.test', 52, 'secure'],
      ['x.wild._device.example.test', 52, 'secure'],
      ['alias._device.example.test', 52, 'secure'],
    ]
    for (const [name, type, want] of cases) {
      const a = await r.query(name, type)
      assert.equal(a.status, want, `${name}: ${a.reason}`)
    }
  })
})

describe('NXDOMAIN inside an NSEC3 opt-out span', () => {
  const peers = labBehindUnbound()

  it('is insecure, as Unbound says (no AD), since an unsigned delegation may hide there (RFC 5155 §9.2); delv 9.18 calls it validated', async () => {
    const ours = createResolver({
      servers: [peers.lab.server],
      clock: systemClock,
      trustAnchors: loadTrustAnchors(peers.lab.trustAnchorsFile),
    })
    const viaUnbound = createResolver({ servers: [peers.ub.server], clock: systemClock, trustAnchors: [], mode: 'resolver' })
    for (const name of ['nx.optout.test', 'nx._device.optout.test']) {
      const a = await ours.query(name, 52)
      assert.equal(a.negative, 'nxdomain')
      assert.equal(a.status, 'insecure', a.reason)
      const u = await viaUnbound.query(name, 52)
      assert.equal(u.negative, 'nxdomain')
      assert.equal(u.status, 'insecure', 'Unbound set AD')
    }
    // and a name that exists in the opt-out zone is secure for both
    assert.equal((await ours.query('dev1._device.optout.test', 52)).status, 'secure')
    assert.equal((await viaUnbound.query('dev1._device.optout.test', 52)).status, 'secure')
  })
})
