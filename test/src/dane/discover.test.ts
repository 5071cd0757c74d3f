/** DANE discovery on recorded answers: secure keys (rollover: all keys), fail-closed statuses, PKIX-CD on insecure, cache. */

import assert from 'node:assert/strict'
import { createHash, X509Certificate } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { fixedClock, systemClock } from '../../../src/clock.js'
import { createPeerDirectory, type TlsaSource } from '../../../src/dane/discover.js'
import type { TlsaRecord } from '../../../src/dane/types.js'
import type { ValidationStatus } from '../../../src/dns/types.js'
import { isDaneelError } from '../../../src/errors.js'
import { CA_EXT, entityExt, issueCert, type TestCert } from '../../../testkit/https-ca.js'
import { makeTempDir } from '../../../testkit/paths.js'

const NAME = 'dev1.airquality._device.example.test'
const spkiOf = (c: TestCert): Uint8Array => new Uint8Array(new X509Certificate(c.certDer).publicKey.export({ type: 'spki', format: 'der' }))
const rec = (usage: 3 | 4, selector: 0 | 1, matchingType: 0 | 1, data: Uint8Array): TlsaRecord => ({ usage, selector, matchingType, data })
const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest())

function source(
  answers: Record<string, { records: TlsaRecord[]; status: ValidationStatus; ttl?: number; unusable?: number } | Error>,
): TlsaSource & { calls: number } {
  const s = {
    calls: 0,
    async lookupTlsa(name: string) {
      s.calls++
      await new Promise((r) => setTimeout(r, 5))
      const a = answers[name]
      if (a === undefined) throw new Error(`unexpected name ${name}`)
      if (a instanceof Error) throw a
      return { records: a.records, status: a.status, reason: `recorded ${a.status}`, ttl: a.ttl ?? 30, unusable: a.unusable ?? 0 }
    },
  }
  return s
}

describe('createPeerDirectory', () => {
  const tmp = makeTempDir('daneel-discover-')
  let cur: TestCert
  let next: TestCert
  let root: TestCert
  let issued: TestCert
  before(() => {
    cur = issueCert(tmp.dir, 'cur', { ext: entityExt(NAME) })
    next = issueCert(tmp.dir, 'next', { ext: entityExt(NAME) })
    root = issueCert(tmp.dir, 'root', { ext: CA_EXT })
    issued = issueCert(tmp.dir, 'issued', { issuer: root, ext: entityExt(NAME) })
  })
  after(() => tmp.cleanup())

  test('secure: the key from 3 0 0 and 3 1 0; every key of a rollover RRset is offered; 3 1 1 alone carries none', async () => {
    const src = source({
      [NAME]: { status: 'secure', records: [rec(3, 0, 0, cur.certDer), rec(3, 1, 1, sha256(spkiOf(cur))), rec(3, 1, 0, spkiOf(next))] },
      'hash.only._device.example.test': { status: 'secure', records: [rec(3, 1, 1, sha256(spkiOf(cur)))] },
    })
    const dir = createPeerDirectory({ resolver: src, clock: systemClock, noDnssec: false })
    const id = await dir.lookup(`${NAME.toUpperCase()}.`)
    assert.equal(id.name, NAME)
    assert.equal(id.auth, 'dnssec')
    assert.deepEqual(id.spki, spkiOf(cur))
    assert.deepEqual(id.certDer, cur.certDer)
    assert.deepEqual(id.spkis, [spkiOf(cur), spkiOf(next)])
    assert.equal(id.records.length, 3)
    await assert.rejects(dir.lookup('hash.only._device.example.test'), (e) => isDaneelError(e, 'ERR_TLSA_UNSUPPORTED'))
  })

  test('a 3 1 0 key whose point is off the curve is unusable and skipped, the next record is used', async () => {
    const bad = Uint8Array.from(spkiOf(next))
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1 // y no longer fits x: not a P-256 point
    const src = source({
      [NAME]: { status: 'secure', records: [rec(3, 1, 0, bad), rec(3, 1, 0, spkiOf(cur))] },
      'bad.only._device.example.test': { status: 'secure', records: [rec(3, 1, 0, bad)] },
    })
    const dir = createPeerDirectory({ resolver: src, clock: systemClock, noDnssec: false })
    assert.deepEqual((await dir.lookup(NAME)).spkis, [spkiOf(cur)])
    await assert.rejects(dir.lookup('bad.only._device.example.test'), (e) => isDaneelError(e, 'ERR_TLSA_UNSUPPORTED'))
  })

  test('bogus and indeterminate fail closed, even with records present; no records is ERR_TLSA_NONE', async () => {
    const src = source({
      'b._device.example.test': { status: 'bogus', records: [rec(3, 0, 0, cur.certDer)] },
      'i._device.example.test': { status: 'indeterminate', records: [rec(3, 0, 0, cur.certDer)] },
      'n._device.example.test': { status: 'secure', records: [] },
    })
    const dir = createPeerDirectory({ resolver: src, clock: systemClock, noDnssec: false, fetchCa: async () => new Uint8Array() })
    await assert.rejects(dir.lookup('b._device.example.test'), (e) => isDaneelError(e, 'ERR_DNSSEC_BOGUS'))
    await assert.rejects(dir.lookup('i._device.example.test'), (e) => isDaneelError(e, 'ERR_DNSSEC_INDETERMINATE'))
    await assert.rejects(dir.lookup('n._device.example.test'), (e) => isDaneelError(e, 'ERR_TLSA_NONE'))
  })

  test('insecure: PKIX-CD on the 4 0 0 certificate with a recorded CA; a self-signed 3 0 0 does not pass', async () => {
    const urls: string[] = []
    const fetchCa = async (url: string) => {
      urls.push(url)
      return new TextEncoder().encode(root.certPem)
    }
    const src = source({
      [NAME]: { status: 'insecure', records: [rec(4, 0, 0, issued.certDer)] },
      'dev1.airquality._device.other.test': { status: 'insecure', records: [rec(3, 0, 0, cur.certDer)] },
    })
    const dir = createPeerDirectory({ resolver: src, clock: systemClock, noDnssec: false, fetchCa })
    const id = await dir.lookup(NAME)
    assert.equal(id.auth, 'pkix-cd')
    assert.deepEqual(id.spki, spkiOf(issued))
    assert.deepEqual(urls, [`https://device.example.test/.well-known/ca/${root.keyId}.pem`])
    await assert.rejects(dir.lookup('dev1.airquality._device.other.test'), (e) => isDaneelError(e, 'ERR_PKIXCD_CHAIN'))
  })

  test('NO_DNSSEC: even a secure answer goes through PKIX-CD; without a fetcher it fails closed', async () => {
    const src = source({ [NAME]: { status: 'secure', records: [rec(3, 0, 0, cur.certDer)] } })
    const dir = createPeerDirectory({ resolver: src, clock: systemClock, noDnssec: true })
    await assert.rejects(dir.lookup(NAME), (e) => isDaneelError(e, 'ERR_PKIXCD_FETCH'))
  })

  test('insecure without PKIX-CD is ERR_DNSSEC_INSECURE; an RRset of only unusable records is ERR_TLSA_UNSUPPORTED', async () => {
    const src = source({
      [NAME]: { status: 'insecure', records: [rec(4, 0, 0, issued.certDer)] },
      'junk._device.example.test': { status: 'secure', records: [], unusable: 2 },
      'empty._device.example.test': { status: 'secure', records: [] },
    })
    const dir = createPeerDirectory({ resolver: src, clock: systemClock, noDnssec: false })
    await assert.rejects(dir.lookup(NAME), (e) => isDaneelError(e, 'ERR_DNSSEC_INSECURE'))
    await assert.rejects(dir.lookup('junk._device.example.test'), (e) => isDaneelError(e, 'ERR_TLSA_UNSUPPORTED'))
    await assert.rejects(dir.lookup('empty._device.example.test'), (e) => isDaneelError(e, 'ERR_TLSA_NONE'))
  })

  test('answers are cached by TTL and concurrent lookups coalesce into one query', async () => {
    let now = Date.now()
    const clock = { now: () => now, synced: () => true }
    const src = source({ [NAME]: { status: 'secure', records: [rec(3, 0, 0, cur.certDer)], ttl: 30 } })
    const dir = createPeerDirectory({ resolver: src, clock, noDnssec: false })
    const all = await Promise.all(Array.from({ length: 50 }, () => dir.lookup(NAME)))
    assert.equal(src.calls, 1)
    assert.ok(all.every((a) => a === all[0]))
    assert.equal(all[0]?.expiresAt, now + 30_000)
    now += 29_000
    await dir.lookup(NAME)
    assert.equal(src.calls, 1)
    now += 2_000
    await dir.lookup(NAME)
    assert.equal(src.calls, 2)
    dir.forget(NAME)
    await dir.lookup(NAME)
    assert.equal(src.calls, 3)
  })

  test('failures are not cached, and an unsynced clock makes PKIX-CD indeterminate', async () => {
    const src = source({ [NAME]: { status: 'insecure', records: [rec(4, 0, 0, issued.certDer)] } })
    const dir = createPeerDirectory({
      resolver: src,
      clock: fixedClock(Date.now(), false),
      noDnssec: false,
      fetchCa: async () => new TextEncoder().encode(root.certPem),
    })
    await assert.rejects(dir.lookup(NAME), (e) => isDaneelError(e, 'ERR_CLOCK_UNSYNCED'))
    await assert.rejects(dir.lookup(NAME), (e) => isDaneelError(e, 'ERR_CLOCK_UNSYNCED'))
    assert.equal(src.calls, 2)
  })
})
