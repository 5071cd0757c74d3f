/** Downgrade and stripping attacks on recorded Knot answers: every edit that removes or forges proof must end bogus, never secure or insecure. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Exchange } from '../../../../src/dns/transport.js'
import { decodeMessage, encodeMessage, type Message, RCODE, TYPE } from '../../../../src/dns/wire.js'
import { rejectsCode } from '../../../../testkit/assert-code.js'
import { loadLabFixture, replayResolver, replayTransport } from '../../../../testkit/dns-replay.js'

const fx = loadLabFixture()

/** Resolves `name`/`type` with the reply for `key` edited by `edit` (a decoded message, re-encoded). */
async function withEdit(name: string, type: number, key: string, edit: (m: Message) => void) {
  const transport = replayTransport(fx.exchanges)
  transport.mutate = (k, bytes) => {
    if (k !== key) return bytes
    const m = decodeMessage(bytes)
    edit(m)
    return encodeMessage(m)
  }
  return replayResolver(fx, transport, { cache: null, retries: 0 }).query(name, type)
}

describe('stripping and forging', () => {
  it('re-encoding an untouched reply changes nothing (the harness itself)', async () => {
    const a = await withEdit('dev1._device.example.test', 52, '52/dev1._device.example.test./udp', () => {})
    assert.equal(a.status, 'secure')
  })

  it('RRSIGs stripped from a signed answer: never secure or insecure', async () => {
    const a = await withEdit('dev1._device.example.test', 52, '52/dev1._device.example.test./udp', (m) => {
      m.answers = m.answers.filter((r) => r.type !== TYPE.RRSIG)
    })
    // Offline the walk down to prove "unsigned" asks for DS records the recording does not hold: indeterminate.
    // Live, the parent's NSEC says the name is no zone cut and example.test. is signed: bogus (see below).
    assert.ok(a.status === 'bogus' || a.status === 'indeterminate', a.status)
    const b = await withEdit('tampered._device.example.test', 52, '52/tampered._device.example.test./udp', (m) => {
      m.answers = m.answers.filter((r) => r.type !== TYPE.RRSIG)
    })
    assert.ok(b.status === 'bogus' || b.status === 'indeterminate', b.status)
  })

  it('a forged extra TLSA record added to a signed RRset: bogus', async () => {
    const a = await withEdit('dev1._device.example.test', 52, '52/dev1._device.example.test./udp', (m) => {
      const tlsa = m.answers.find((r) => r.type === TYPE.TLSA)
      if (tlsa) m.answers.push({ ...tlsa, rdata: new Uint8Array([3, 1, 1, ...new Uint8Array(32).fill(0xab)]) })
    })
    assert.equal(a.status, 'bogus')
  })

  it('NXDOMAIN with its NSEC proof removed: bogus', async () => {
    const a = await withEdit('nx._device.example.test', 52, '52/nx._device.example.test./udp', (m) => {
      m.authorities = m.authorities.filter((r) => r.type === TYPE.SOA || (r.type === TYPE.RRSIG && r.rdata[1] === TYPE.SOA))
    })
    assert.equal(a.status, 'bogus', a.reason)
  })

  it('NXDOMAIN turned into NODATA (rcode changed) with the same NSEC3: bogus', async () => {
    const a = await withEdit('nx._device.rsa.test', 52, '52/nx._device.rsa.test./udp', (m) => {
      m.rcode = RCODE.NOERROR
    })
    assert.equal(a.status, 'bogus', a.reason)
  })

  it('an existing name answered with the NXDOMAIN of another name: bogus', async () => {
    const nx = decodeMessage(new Uint8Array(Buffer.from(fx.exchanges['52/nx._device.example.test./udp'] as string, 'base64')))
    const a = await withEdit('dev1._device.example.test', 52, '52/dev1._device.example.test./udp', (m) => {
      m.rcode = RCODE.NXDOMAIN
      m.answers = []
      m.authorities = nx.authorities
    })
    assert.equal(a.status, 'bogus', a.reason)
  })

  it('a wildcard answer without its NSEC proof: bogus', async () => {
    const a = await withEdit('x.wild._device.example.test', 52, '52/x.wild._device.example.test./udp', (m) => {
      m.authorities = []
    })
    assert.equal(a.status, 'bogus', a.reason)
  })

  it('the DS denial for the unsigned delegation with its NSEC3 RRSIG removed: not insecure (bogus)', async () => {
    const a = await withEdit('dev1._device.insecure.test', 52, '43/insecure.test./udp', (m) => {
      m.authorities = m.authorities.filter((r) => r.type !== TYPE.RRSIG)
    })
    assert.equal(a.status, 'bogus', a.reason)
  })

  it('a signed zone pretending to be unsigned (DS answer replaced by an unsigned NODATA): bogus', async () => {
    const a = await withEdit('dev1._device.example.test', 52, '43/example.test./udp', (m) => {
      m.answers = []
      m.authorities = m.authorities.filter((r) => r.type === TYPE.SOA)
    })
    assert.notEqual(a.status, 'secure')
    assert.notEqual(a.status, 'insecure')
  })

  it('the truncated UDP reply (TLSA without RRSIG) is never used: with TCP down, a clear error', async () => {
    const transport = replayTransport(fx.exchanges)
    delete (transport as { mutate?: unknown }).mutate
    const udpOnly = { exchange: (x: Exchange) => (x.tcp ? Promise.reject(new Error('tcp blocked')) : transport.exchange(x)) }
    const r = replayResolver(fx, udpOnly, { cache: null, retries: 0 })
    await rejectsCode(r.query('dev2._device.rsa.test', 52), 'ERR_DNS_TIMEOUT')
  })
})
