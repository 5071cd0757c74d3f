/** Faults over real UDP sockets: spoofed and garbage replies ignored, servers down (serve-stale, then a clear failure), floods coalesced. */
import assert from 'node:assert/strict'
import { createSocket, type Socket } from 'node:dgram'
import { after, before, describe, it } from 'node:test'
import type { Clock } from '../../../src/clock.js'
import { createCache } from '../../../src/dns/cache.js'
import { parseTrustAnchors } from '../../../src/dns/dnssec/anchors.js'
import { createResolver } from '../../../src/dns/resolver.js'
import { decodeMessage } from '../../../src/dns/wire.js'
import { isDaneelError } from '../../../src/errors.js'
import { loadLabFixture } from '../../../testkit/dns-replay.js'

const fx = loadLabFixture()
const anchors = parseTrustAnchors(fx.trustAnchors)

type Mode = 'ok' | 'silent' | 'hostile' | 'malformed'

/** A UDP server replaying the recorded lab answers; in 'hostile' mode it first sends forged replies. */
async function fakeServer(): Promise<{ port: number; mode: Mode; seen: Map<string, number>; close(): Promise<void> }> {
  const sock = createSocket('udp4')
  const spoof: Socket = createSocket('udp4')
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r))
  // Another address on loopback: replies from it must be ignored even when everything else is right.
  await new Promise<void>((r) => spoof.bind(0, '127.0.0.2', r))
  const state = {
    port: (sock.address() as { port: number }).port,
    mode: 'ok' as Mode,
    seen: new Map<string, number>(),
    close: async () => {
      await new Promise<void>((r) => sock.close(() => r()))
      await new Promise<void>((r) => spoof.close(() => r()))
    },
  }
  sock.on('message', (msg, rinfo) => {
    let key: string
    try {
      const q = decodeMessage(msg).questions[0]
      key = `${q?.type}/${q?.name}/udp`
    } catch {
      return
    }
    state.seen.set(key, (state.seen.get(key) ?? 0) + 1)
    if (state.mode === 'silent') return
    const b64 = fx.exchanges[key]
    if (b64 === undefined) return
    const genuine = Buffer.from(b64, 'base64')
    genuine[0] = msg[0] as number
    genuine[1] = msg[1] as number
    const send = (s: Socket, b: Uint8Array): void => s.send(b, rinfo.port, rinfo.address)
    if (state.mode === 'malformed') {
      // ID, flags and question intact (it passes the spoofing checks), the answer section cut short
      send(sock, genuine.subarray(0, genuine.length - 9))
      return
    }
    if (state.mode === 'hostile') {
      const forged = Buffer.from(genuine)
      forged[forged.length - 5] = (forged[forged.length - 5] as number) ^ 0xff // would make the answer bogus if accepted
      const wrongId = Buffer.from(forged)
      wrongId[0] = (wrongId[0] as number) ^ 0x55
      send(sock, wrongId)
      // right ID, wrong question: the query name's first letter changed
      const wrongQ = Buffer.from(genuine)
      wrongQ[13] = (wrongQ[13] as number) === 0x61 ? 0x62 : 0x61
      send(sock, wrongQ)
      send(spoof, forged) // right ID and question, wrong source address
      const garbage = Buffer.alloc(40, 0xc0)
      garbage[0] = msg[0] as number
      garbage[1] = msg[1] as number
      garbage[2] = 0x84
      send(sock, garbage) // right ID, then nonsense
      setTimeout(() => send(sock, genuine), 30)
      return
    }
    send(sock, genuine)
  })
  return state
}

describe('DNS faults', () => {
  let srv: Awaited<ReturnType<typeof fakeServer>>
  before(async () => {
    srv = await fakeServer()
  })
  after(async () => {
    await srv.close()
  })

  it('ignores replies with a wrong ID, a wrong question, from a wrong address, or garbage; takes the genuine one', async () => {
    srv.mode = 'hostile'
    const r = createResolver({
      servers: [`127.0.0.1:${srv.port}`],
      clock: { now: () => fx.clockMs, synced: () => true },
      trustAnchors: anchors,
      timeoutMs: 3000,
      retries: 0,
    })
    const a = await r.query('dev1._device.example.test', 52)
    assert.equal(a.status, 'secure', a.reason)
    assert.equal(a.rrset.length, 2)
    srv.mode = 'ok'
  })

  it('a flood of identical queries becomes one query on the wire', async () => {
    srv.seen.clear()
    const r = createResolver({
      servers: [`127.0.0.1:${srv.port}`],
      clock: { now: () => fx.clockMs, synced: () => true },
      trustAnchors: anchors,
    })
    const all = await Promise.all(Array.from({ length: 200 }, () => r.query('dev1._device.ed.test', 52)))
    assert.ok(all.every((a) => a.status === 'secure'))
    assert.equal(srv.seen.get('52/dev1._device.ed.test./udp'), 1)
    for (const [k, n] of srv.seen) assert.equal(n, 1, `${k} asked ${n} times`)
    // and a later identical query is served from the cache
    assert.equal((await r.query('dev1._device.ed.test', 52)).source, 'cache')
    assert.equal(srv.seen.get('52/dev1._device.ed.test./udp'), 1)
  })

  it('servers down: the stale answer is served (RFC 8767), then after the stale window a clear ERR_DNS_TIMEOUT', async () => {
    let now = fx.clockMs
    const clock: Clock = { now: () => now, synced: () => true }
    const cache = createCache({ clock, maxStale: 120 })
    const r = createResolver({
      servers: [`127.0.0.1:${srv.port}`, `127.0.0.1:${srv.port}`],
      clock,
      trustAnchors: anchors,
      cache,
      timeoutMs: 150,
      retries: 1,
    })
    const first = await r.query('dev1._device.example.test', 52)
    assert.equal(first.source, 'network')
    assert.equal(first.status, 'secure')
    srv.mode = 'silent'
    try {
      now += 60_000 // past the 30 s TTL
      const stale = await r.query('dev1._device.example.test', 52)
      assert.equal(stale.source, 'stale')
      assert.equal(stale.status, 'secure')
      assert.equal(stale.ttl, 30)
      now += 200_000 // past TTL + maxStale
      await assert.rejects(
        r.query('dev1._device.example.test', 52),
        (err) => isDaneelError(err, 'ERR_DNS_TIMEOUT') && /no usable answer/.test(err.message),
      )
      // never-cached names fail at once with the same clear error
      await assert.rejects(r.query('dev1._device.rsa.test', 1), (err) => isDaneelError(err, 'ERR_DNS_TIMEOUT'))
    } finally {
      srv.mode = 'ok'
    }
  })

  it('a malformed answer from every server is ERR_DNS_FORMAT, not ERR_DNS_TIMEOUT; silence is still a timeout', async () => {
    const r = createResolver({
      servers: [`127.0.0.1:${srv.port}`],
      clock: { now: () => fx.clockMs, synced: () => true },
      trustAnchors: anchors,
      cache: null,
      timeoutMs: 300,
      retries: 1,
    })
    srv.mode = 'malformed'
    try {
      await assert.rejects(
        r.query('dev1._device.example.test', 52),
        (err) => isDaneelError(err, 'ERR_DNS_FORMAT') && /no usable answer.*malformed DNS message/.test(err.message),
      )
      srv.mode = 'silent'
      await assert.rejects(r.query('dev1._device.example.test', 52), (err) => isDaneelError(err, 'ERR_DNS_TIMEOUT'))
    } finally {
      srv.mode = 'ok'
    }
  })
})
