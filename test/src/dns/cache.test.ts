/** The answer cache: TTL clamps, negative TTL cap (RFC 2308), LRU bound, no caching of bogus, coalescing, serve-stale (RFC 8767). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createCache } from '../../../src/dns/cache.js'
import type { DnsAnswer } from '../../../src/dns/types.js'
import { DaneelError, isDaneelError } from '../../../src/errors.js'

const answer = (over: Partial<DnsAnswer> = {}): DnsAnswer => ({
  name: 'a.example.',
  type: 52,
  rcode: 0,
  rrset: [],
  cnames: [],
  status: 'secure',
  reason: 'test',
  ttl: 60,
  source: 'network',
  ...over,
})

describe('dns cache', () => {
  it('serves fresh entries, reloads after the TTL, clamps TTLs', async () => {
    let now = 0
    const c = createCache({ clock: { now: () => now, synced: () => true }, maxTtl: 100 })
    let loads = 0
    const load = async (): Promise<DnsAnswer> => answer({ ttl: 10_000, reason: `load ${++loads}` })
    assert.equal((await c.resolve('k', load)).ttl, 100)
    assert.equal((await c.resolve('k', load)).source, 'cache')
    now += 101_000
    assert.equal((await c.resolve('k', load)).reason, 'load 2')
  })

  it('gives back from the cache what was stored: reason, records and owner names (kept compactly)', async () => {
    let now = 0
    const c = createCache({ clock: { now: () => now, synced: () => true } })
    const rdata = Uint8Array.of(3, 1, 0, 0x30, 0x59)
    const rr = { name: 'dev7._device.example.', type: 52, class: 1, ttl: 300, rdata }
    const stored = answer({
      name: 'dev7._device.example.',
      rrset: [rr],
      reason: `${'dev7._device.example.'} TLSA signed by example. (algorithm 13, key 4711)`,
      ttl: 300,
    })
    await c.resolve('52/dev7', async () => stored)
    now += 1000
    const hit = await c.resolve('52/dev7', async () => assert.fail('a fresh entry is not loaded again'))
    assert.equal(hit.source, 'cache')
    assert.equal(hit.reason, 'dev7._device.example. TLSA signed by example. (algorithm 13, key 4711)')
    assert.deepEqual(hit.rrset, [rr])
    assert.deepEqual(hit.cnames, [])
    const other = await c.resolve('x', async () => answer({ name: 'x.', reason: 'no name prefix here' }))
    assert.equal(other.reason, 'no name prefix here')
  })

  it('caps negative TTLs (RFC 2308 §5) and never keeps bogus or indeterminate answers', async () => {
    const c = createCache({ clock: { now: () => 0, synced: () => true }, maxNegativeTtl: 5 })
    assert.equal((await c.resolve('n', async () => answer({ negative: 'nxdomain', ttl: 3600 }))).ttl, 5)
    let loads = 0
    for (let i = 0; i < 3; i++) await c.resolve('b', async () => answer({ status: 'bogus', ttl: 300, reason: String(++loads) }))
    assert.equal(loads, 3)
  })

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const c = createCache({ clock: { now: () => 0, synced: () => true }, maxEntries: 2 })
    let loads = 0
    const load = async (): Promise<DnsAnswer> => {
      loads++
      return answer()
    }
    await c.resolve('a', load)
    await c.resolve('b', load)
    await c.resolve('a', load) // a is now the most recent
    await c.resolve('c', load) // evicts b
    assert.equal(c.size, 2)
    const before = loads
    await c.resolve('a', load)
    assert.equal(loads, before)
    await c.resolve('b', load)
    assert.equal(loads, before + 1)
  })

  it('coalesces concurrent loads of one key', async () => {
    const c = createCache({ clock: { now: () => 0, synced: () => true } })
    let loads = 0
    const load = (): Promise<DnsAnswer> => new Promise((r) => setTimeout(() => r(answer({ reason: String(++loads) })), 20))
    const all = await Promise.all(Array.from({ length: 50 }, () => c.resolve('x', load)))
    assert.equal(loads, 1)
    assert.ok(all.every((a) => a.reason === '1'))
  })

  it('serve-stale only for network failures (silence, SERVFAIL, undecodable replies), within the stale window', async () => {
    let now = 0
    const c = createCache({ clock: { now: () => now, synced: () => true }, maxStale: 100 })
    await c.resolve('s', async () => answer({ ttl: 10 }))
    now = 50_000
    const down = async (): Promise<DnsAnswer> => {
      throw new DaneelError('ERR_DNS_TIMEOUT', 'down')
    }
    const s = await c.resolve('s', down)
    assert.equal(s.source, 'stale')
    assert.equal(s.ttl, 30)
    // replies that could not be decoded are no answer either (the resolver's ERR_DNS_FORMAT)
    const garbled = await c.resolve('s', async () => {
      throw new DaneelError('ERR_DNS_FORMAT', 'no usable answer: malformed DNS message')
    })
    assert.equal(garbled.source, 'stale')
    await assert.rejects(
      c.resolve('s', async () => {
        throw new DaneelError('ERR_NAME_INVALID', 'not a network failure')
      }),
      (e) => isDaneelError(e, 'ERR_NAME_INVALID'),
    )
    now = 200_000
    await assert.rejects(c.resolve('s', down), (e) => isDaneelError(e, 'ERR_DNS_TIMEOUT'))
  })
})
