/** DANE discovery against the Knot lab: secure keys, bogus/indeterminate fail closed, PKIX-CD only on a proven-insecure zone. */

import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { fixedClock, systemClock } from '../../../src/clock.js'
import { createPeerDirectory } from '../../../src/dane/discover.js'
import { resolverHostLookup } from '../../../src/dane/host-resolver.js'
import { createHttpsFetcher } from '../../../src/dane/https-fetch.js'
import { formatTlsaRdata, makeTlsaRecord } from '../../../src/dane/tlsa.js'
import { loadTrustAnchors } from '../../../src/dns/dnssec/anchors.js'
import { createResolver } from '../../../src/dns/resolver.js'
import { isDaneelError } from '../../../src/errors.js'
import { type DnsLab, startDnsLab } from '../../../testkit/dns-lab.js'
import {
  CA_EXT,
  entityExt,
  type HttpsCaServer,
  issueCert,
  makeWebPki,
  startHttpsCaServer,
  type TestCert,
} from '../../../testkit/https-ca.js'
import { makeTempDir } from '../../../testkit/paths.js'

const spkiOfPem = (pem: string): Uint8Array => new Uint8Array(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))

describe('createPeerDirectory with the Knot lab', () => {
  const tmp = makeTempDir('daneel-discover-lab-')
  let lab: DnsLab
  let server: HttpsCaServer
  let root: TestCert
  let webRoot: TestCert
  let pk1: TestCert
  let pk1bogus: TestCert

  const directory = (opts: { noDnssec?: boolean; clock?: ReturnType<typeof fixedClock> } = {}) => {
    const clock = opts.clock ?? systemClock
    const resolver = createResolver({ servers: [lab.server], clock, trustAnchors: loadTrustAnchors(lab.trustAnchorsFile) })
    // the CA's host is resolved through our resolver (device.<domain> A 127.0.0.1 in the lab), the port is the test server's
    const fetchCa = createHttpsFetcher({ resolveHost: resolverHostLookup(resolver), ca: webRoot.certPem, port: server.port })
    return createPeerDirectory({ resolver, clock, noDnssec: opts.noDnssec ?? false, fetchCa })
  }

  before(async () => {
    root = issueCert(tmp.dir, 'zone-root', { ext: CA_EXT })
    pk1 = issueCert(tmp.dir, 'pk1', { issuer: root, ext: entityExt('pk1._device.insecure.test') })
    pk1bogus = issueCert(tmp.dir, 'pk1-badds', { issuer: root, ext: entityExt('pk1._device.badds.test') })
    const web = makeWebPki(tmp.dir, 'device.insecure.test')
    webRoot = web.root
    server = await startHttpsCaServer(web.server)
    server.setRoute(`/.well-known/ca/${root.keyId}.pem`, { body: root.certPem })
    lab = await startDnsLab({
      records: {
        'insecure.test.': [`pk1._device IN TLSA ${formatTlsaRdata(makeTlsaRecord(pk1.certDer, 4, 0, 0))}`],
        'badds.test.': [`pk1._device IN TLSA ${formatTlsaRdata(makeTlsaRecord(pk1bogus.certDer, 4, 0, 0))}`, 'device IN A 127.0.0.1'],
      },
    })
  })
  after(async () => {
    await Promise.allSettled([lab?.stop(), server?.stop()])
    tmp.cleanup()
  })

  test('secure: the key of dev1 (3 0 0 + 3 1 1), by DNSSEC', async () => {
    const id = await directory().lookup('dev1._device.example.test')
    assert.equal(id.auth, 'dnssec')
    assert.deepEqual(id.spki, spkiOfPem(lab.certs.dev1.pem))
    assert.equal(id.records.length, 2)
    assert.ok(id.certDer !== undefined)
    assert.ok(id.expiresAt > Date.now())
  })

  test('secure in an alg 8 zone over TCP (RSA 3 0 0 truncates over UDP) and an alg 15 zone', async () => {
    assert.deepEqual((await directory().lookup('dev2._device.rsa.test')).spki, spkiOfPem(lab.certs.dev2.pem))
    assert.equal((await directory().lookup('dev1._device.ed.test')).auth, 'dnssec')
  })

  test('bogus fails closed: tampered, expired, wrong DS; no PKIX-CD fallback even with a good CA', async () => {
    const d = directory()
    for (const name of [
      'tampered._device.example.test',
      'expired._device.example.test',
      'dev1._device.badds.test',
      'pk1._device.badds.test',
    ]) {
      await assert.rejects(d.lookup(name), (e) => isDaneelError(e, 'ERR_DNSSEC_BOGUS'), name)
    }
    assert.equal(server.hits.size, 0, 'no CA was fetched for a bogus zone')
  })

  test('an unsynced clock is indeterminate, never secure', async () => {
    await assert.rejects(directory({ clock: fixedClock(Date.now(), false) }).lookup('dev1._device.example.test'), (e) =>
      isDaneelError(e, 'ERR_DNSSEC_INDETERMINATE'),
    )
  })

  test('proven insecure: PKIX-CD over HTTPS to device.insecure.test, found through our resolver', async () => {
    const id = await directory().lookup('pk1._device.insecure.test')
    assert.equal(id.auth, 'pkix-cd')
    assert.deepEqual(id.certDer, pk1.certDer)
    assert.equal(server.hits.get(`/.well-known/ca/${root.keyId}.pem`), 1)
    // the lab's own dev1 there is self-signed without CA:TRUE, and its CA URL is not served: no authentication
    await assert.rejects(
      directory().lookup('dev1._device.insecure.test'),
      (e) => isDaneelError(e, 'ERR_PKIXCD_FETCH') || isDaneelError(e, 'ERR_PKIXCD_CHAIN'),
    )
  })

  test('NO_DNSSEC: even a secure name must pass PKIX-CD; nothing published is ERR_TLSA_NONE', async () => {
    await assert.rejects(
      directory({ noDnssec: true }).lookup('dev1._device.example.test'),
      (e) => isDaneelError(e) && e.code.startsWith('ERR_PKIXCD'),
    )
    await assert.rejects(directory().lookup('nx._device.example.test'), (e) => isDaneelError(e, 'ERR_TLSA_NONE'))
  })
})
