/** Resolver configuration and the DNSSEC=resolver mode (AD bit from a loopback resolver only), on recorded bytes. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fixedClock } from '../../../src/clock.js'
import { loadTrustAnchors, parseTrustAnchors } from '../../../src/dns/dnssec/anchors.js'
import { createResolver, systemServers } from '../../../src/dns/resolver.js'
import { parseServer } from '../../../src/dns/transport.js'
import { decodeMessage, encodeMessage, TYPE } from '../../../src/dns/wire.js'
import { throwsCode } from '../../../testkit/assert-code.js'
import { loadLabFixture, replayResolver, replayTransport } from '../../../testkit/dns-replay.js'

const fx = loadLabFixture()
const anchors = parseTrustAnchors(fx.trustAnchors)

describe('resolver configuration', () => {
  it('parses server addresses (IPv4, IPv6, ports) and rejects names', () => {
    assert.deepEqual(parseServer('127.0.0.1'), { host: '127.0.0.1', port: 53, family: 4 })
    assert.deepEqual(parseServer('10.0.0.1:5353'), { host: '10.0.0.1', port: 5353, family: 4 })
    assert.deepEqual(parseServer('[::1]:5353'), { host: '::1', port: 5353, family: 6 })
    assert.deepEqual(parseServer('2001:db8::1'), { host: '2001:db8::1', port: 53, family: 6 })
    throwsCode(() => parseServer('dns.example:53'), 'ERR_CONFIG_INVALID')
    throwsCode(() => parseServer('127.0.0.1:99999'), 'ERR_CONFIG_INVALID')
  })

  it('reads nameservers from resolv.conf', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daneel-resolv-'))
    try {
      const f = join(dir, 'resolv.conf')
      writeFileSync(f, '# comment\nsearch lan\nnameserver 192.0.2.1\nnameserver fe80::1%eth0\n')
      assert.deepEqual(systemServers(f), ['192.0.2.1:53', '[fe80::1]:53'])
      writeFileSync(f, 'search lan\n')
      throwsCode(() => systemServers(f), 'ERR_CONFIG_INVALID')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('built-in anchors are the root KSKs 20326 and 38696; a DNSSEC_TRUST_ANCHORS file replaces them; junk is a config error', () => {
    const root = loadTrustAnchors()
    assert.equal(root.length, 1)
    assert.equal(root[0]?.zone, '.')
    assert.deepEqual(
      root[0]?.ds.map((d) => (d.rdata[0] as number) * 256 + (d.rdata[1] as number)),
      [20326, 38696],
    )
    throwsCode(() => parseTrustAnchors('nothing here'), 'ERR_CONFIG_INVALID')
    throwsCode(() => loadTrustAnchors('/nonexistent/anchors'), 'ERR_CONFIG_INVALID')
    assert.equal(anchors[0]?.dnskeys.length, 1)
  })

  it('DNSSEC=resolver refuses a resolver that is not on loopback', () => {
    for (const s of ['192.0.2.53', '[2001:db8::53]:53', '10.255.255.53:53']) {
      throwsCode(
        () => createResolver({ servers: [s], clock: fixedClock(0), trustAnchors: anchors, mode: 'resolver' }),
        'ERR_CONFIG_INVALID',
      )
    }
    assert.doesNotThrow(() =>
      createResolver({ servers: ['127.0.0.53', '[::1]:53'], clock: fixedClock(0), trustAnchors: anchors, mode: 'resolver' }),
    )
  })

  it('DNSSEC=resolver: AD set → secure, AD clear → insecure; nothing is validated locally', async () => {
    for (const ad of [true, false]) {
      const t = replayTransport(fx.exchanges)
      t.mutate = (_k, b) => {
        const out = new Uint8Array(b)
        out[3] = ad ? (out[3] as number) | 0x20 : (out[3] as number) & ~0x20
        return out
      }
      const r = replayResolver(fx, t, { mode: 'resolver' })
      const a = await r.query('tampered._device.example.test', 52)
      assert.equal(a.status, ad ? 'secure' : 'insecure')
      assert.match(a.reason, /DNSSEC=resolver/)
      assert.deepEqual(t.log, ['52/tampered._device.example.test./udp'])
    }
  })

  it('lookupTlsa decodes with the checked TLSA decoder: malformed and unknown-parameter records are skipped and counted', async () => {
    const t = replayTransport(fx.exchanges)
    t.mutate = (_k, b) => {
      const m = decodeMessage(b)
      const answers = m.answers.map((rr, i) => {
        if (rr.type !== TYPE.TLSA) return rr
        // the first record gets usage 5 (no such usage, RFC 6698 §2.1.1), the second is cut to 3 octets
        const rdata = i === 0 ? Uint8Array.of(5, ...rr.rdata.subarray(1)) : rr.rdata.subarray(0, 3)
        return { ...rr, rdata }
      })
      return encodeMessage({ ...m, answers })
    }
    const r = replayResolver(fx, t, { mode: 'resolver' })
    const a = await r.lookupTlsa('dev1._device.example.test')
    assert.equal(a.answer.rrset.filter((rr) => rr.type === TYPE.TLSA).length, 2)
    assert.equal(a.records.length, 0)
    assert.equal(a.unusable, 2)
  })
})
