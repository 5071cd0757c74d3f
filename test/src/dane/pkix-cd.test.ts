/** PKIX-CD against a local HTTPS server with a test CA made by openssl: a good chain, and each failure alone. */

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { fixedClock, systemClock } from '../../../src/clock.js'
import { createHttpsFetcher, PKIXCD_MAX_BYTES, PKIXCD_TIMEOUT_MS } from '../../../src/dane/https-fetch.js'
import { createPkixCd, pkixCdDomain, pkixCdUrl, verifyPkixCdChain } from '../../../src/dane/pkix-cd.js'
import { isDaneelError } from '../../../src/errors.js'
import { rejectsCode, throwsCode } from '../../../testkit/assert-code.js'
import {
  CA_EXT,
  caTime,
  entityExt,
  type HttpsCaServer,
  issueCert,
  makeWebPki,
  startHttpsCaServer,
  type TestCert,
} from '../../../testkit/https-ca.js'
import { makeTempDir } from '../../../testkit/paths.js'

const DAY = 86_400_000
const NAME = 'c90a0d441683.airquality._device.example.test'
const HOST = 'device.example.test'
const path = (keyId: string): string => `/.well-known/ca/${keyId}.pem`

describe('PKIX-CD names', () => {
  test('the domain follows the rightmost underscore label; the URL carries the AKI as dashed hex', () => {
    assert.equal(pkixCdDomain(NAME), 'example.test')
    assert.equal(pkixCdDomain('A.B._device._x.Example.COM.'), 'example.com')
    assert.equal(pkixCdUrl(NAME, Uint8Array.from([0xab, 0x01, 0xff])), 'https://device.example.test/.well-known/ca/ab-01-ff.pem')
    throwsCode(() => pkixCdDomain('plain.example.com'), 'ERR_NAME_INVALID')
    throwsCode(() => pkixCdDomain('x._device'), 'ERR_NAME_INVALID')
  })
})

describe('PKIX-CD over HTTPS (openssl test CA, local server)', () => {
  const tmp = makeTempDir('daneel-pkixcd-')
  let server: HttpsCaServer
  let webRoot: TestCert
  let root: TestCert
  let good: TestCert // issued by the root directly
  let inter: TestCert
  let viaInter: TestCert
  const lookups: string[] = []

  const authenticator = (opts: { timeoutMs?: number; maxBytes?: number } = {}) =>
    createPkixCd({
      clock: systemClock,
      fetchCa: createHttpsFetcher({
        ca: webRoot.certPem,
        port: server.port,
        // stands in for our resolver: the host must be asked for by name, and answers loopback
        resolveHost: async (host) => {
          lookups.push(host)
          return host === HOST ? [{ address: '127.0.0.1', family: 4 }] : []
        },
        ...opts,
      }),
    })

  const expectFail = async (entity: TestCert, code: string, re: RegExp, opts?: { timeoutMs?: number; maxBytes?: number }) => {
    await assert.rejects(authenticator(opts).authenticate(NAME, entity.certDer), (e: unknown) => {
      assert.ok(isDaneelError(e), String(e))
      assert.equal(e.code, code, e.message)
      assert.match(e.message, re)
      return true
    })
  }

  before(async () => {
    const web = makeWebPki(tmp.dir, HOST)
    webRoot = web.root
    server = await startHttpsCaServer(web.server)
    root = issueCert(tmp.dir, 'zone-root', { ext: CA_EXT })
    good = issueCert(tmp.dir, 'good', { issuer: root, ext: entityExt('other.example.test', NAME.toUpperCase()) })
    inter = issueCert(tmp.dir, 'zone-inter', {
      issuer: root,
      ext: ['basicConstraints = critical,CA:TRUE,pathlen:0', 'keyUsage = critical,keyCertSign'],
    })
    viaInter = issueCert(tmp.dir, 'via-inter', { issuer: inter, ext: entityExt(NAME) })
    server.setRoute(path(root.keyId), { body: root.certPem })
    server.setRoute(path(inter.keyId), { body: inter.certPem + root.certPem })
  })
  after(async () => {
    await server?.stop()
    tmp.cleanup()
  })

  test('a good chain authenticates (any SAN entry, case-insensitive), through the injected resolver; CA cached', async () => {
    const pkix = authenticator()
    const r = await pkix.authenticate(NAME, good.certDer)
    assert.equal(r.url, `https://${HOST}${path(root.keyId)}`)
    assert.equal(r.cas.length, 1)
    assert.ok(lookups.includes(HOST))
    const before = server.hits.get(path(root.keyId))
    await Promise.all([pkix.authenticate(NAME, good.certDer), pkix.authenticate(NAME, good.certDer)])
    assert.equal(server.hits.get(path(root.keyId)), before, 'the CA certificate came from the cache')
  })

  test('a two-level chain (intermediate + root in one PEM) authenticates', async () => {
    const r = await authenticator().authenticate(NAME, viaInter.certDer)
    assert.equal(r.cas.length, 2)
  })

  test('missing CA: the CA file does not hold the issuer', async () => {
    const other = issueCert(tmp.dir, 'other-root', { ext: CA_EXT })
    const orphan = issueCert(tmp.dir, 'orphan', { issuer: other, ext: entityExt(NAME) })
    // serve an unrelated CA at the orphan's keyid URL
    server.setRoute(path(other.keyId), { body: root.certPem })
    await expectFail(orphan, 'ERR_PKIXCD_CHAIN', /no fetched CA certificate issued/)
  })

  test('expired CA', async () => {
    const old = issueCert(tmp.dir, 'old-root', { ext: CA_EXT, start: caTime(Date.now() - 20 * DAY), end: caTime(Date.now() - DAY) })
    const ee = issueCert(tmp.dir, 'ee-old', { issuer: old, ext: entityExt(NAME) })
    server.setRoute(path(old.keyId), { body: old.certPem })
    await expectFail(ee, 'ERR_CERT_EXPIRED', /CA certificate at depth 1 expired/)
  })

  test('CA without keyCertSign', async () => {
    const nokcs = issueCert(tmp.dir, 'nokcs-root', {
      ext: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,digitalSignature,cRLSign'],
    })
    const ee = issueCert(tmp.dir, 'ee-nokcs', { issuer: nokcs, ext: entityExt(NAME) })
    server.setRoute(path(nokcs.keyId), { body: nokcs.certPem })
    await expectFail(ee, 'ERR_CERT_KEY_USAGE', /keyCertSign/)
  })

  test('a CA without CA:TRUE, and a pathLen exceeded', async () => {
    const notCa = issueCert(tmp.dir, 'notca-root', { ext: ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,keyCertSign'] })
    const ee = issueCert(tmp.dir, 'ee-notca', { issuer: notCa, ext: entityExt(NAME) })
    server.setRoute(path(notCa.keyId), { body: notCa.certPem })
    await expectFail(ee, 'ERR_CERT_NOT_CA', /CA:TRUE/)
    const tight = issueCert(tmp.dir, 'tight-root', {
      ext: ['basicConstraints = critical,CA:TRUE,pathlen:0', 'keyUsage = critical,keyCertSign'],
    })
    const mid = issueCert(tmp.dir, 'tight-mid', { issuer: tight, ext: CA_EXT })
    const ee2 = issueCert(tmp.dir, 'ee-tight', { issuer: mid, ext: entityExt(NAME) })
    server.setRoute(path(mid.keyId), { body: mid.certPem + tight.certPem })
    await expectFail(ee2, 'ERR_CERT_PATHLEN', /depth 2 allows 0/)
  })

  test('a chain of 4 CA certificates passes, 5 is too deep', async () => {
    let issuer = issueCert(tmp.dir, 'deep-0', { ext: CA_EXT })
    const bundle = [issuer.certPem]
    for (let i = 1; i <= 4; i++) {
      if (i === 4) {
        const ee4 = issueCert(tmp.dir, 'ee-deep4', { issuer, ext: entityExt(NAME) })
        server.setRoute(path(issuer.keyId), { body: bundle.join('') })
        assert.equal((await authenticator().authenticate(NAME, ee4.certDer)).cas.length, 4)
      }
      issuer = issueCert(tmp.dir, `deep-${i}`, { issuer, ext: CA_EXT })
      bundle.unshift(issuer.certPem)
    }
    const ee = issueCert(tmp.dir, 'ee-deep', { issuer, ext: entityExt(NAME) })
    server.setRoute(path(issuer.keyId), { body: bundle.join('') })
    await expectFail(ee, 'ERR_PKIXCD_CHAIN', /deeper than 4/)
  })

  test('wrong SAN', async () => {
    const ee = issueCert(tmp.dir, 'ee-wrongsan', { issuer: root, ext: entityExt('c90a0d441683.airquality._device.example.org') })
    await expectFail(ee, 'ERR_PKIXCD_CHAIN', /no dNSName of the certificate equals/)
  })

  test('404', async () => {
    const lone = issueCert(tmp.dir, 'lone-root', { ext: CA_EXT })
    const ee = issueCert(tmp.dir, 'ee-404', { issuer: lone, ext: entityExt(NAME) })
    await expectFail(ee, 'ERR_PKIXCD_FETCH', /HTTP status 404/)
  })

  test('too slow (timeout)', async () => {
    const slow = issueCert(tmp.dir, 'slow-root', { ext: CA_EXT })
    const ee = issueCert(tmp.dir, 'ee-slow', { issuer: slow, ext: entityExt(NAME) })
    server.setRoute(path(slow.keyId), { body: slow.certPem, delayMs: 3_000 })
    assert.equal(PKIXCD_TIMEOUT_MS, 5_000)
    const t0 = Date.now()
    await expectFail(ee, 'ERR_PKIXCD_FETCH', /no complete answer within 400 ms/, { timeoutMs: 400 })
    assert.ok(Date.now() - t0 < 2_000)
  })

  test('body too large', async () => {
    const big = issueCert(tmp.dir, 'big-root', { ext: CA_EXT })
    const ee = issueCert(tmp.dir, 'ee-big', { issuer: big, ext: entityExt(NAME) })
    assert.equal(PKIXCD_MAX_BYTES, 65_536)
    server.setRoute(path(big.keyId), { body: big.certPem + '#'.repeat(PKIXCD_MAX_BYTES) })
    await expectFail(ee, 'ERR_PKIXCD_FETCH', /exceeds 65536/)
    // the same without a content-length: the limit is enforced while streaming
    server.setRoute(path(big.keyId), { body: big.certPem + '#'.repeat(PKIXCD_MAX_BYTES), chunked: true })
    await expectFail(ee, 'ERR_PKIXCD_FETCH', /body exceeds 65536 bytes/)
    // just under the limit, streamed, is fine
    server.setRoute(path(big.keyId), { body: big.certPem + '#'.repeat(PKIXCD_MAX_BYTES - big.certPem.length - 1), chunked: true })
    assert.equal((await authenticator().authenticate(NAME, ee.certDer)).cas.length, 1)
  })

  test('the server certificate must chain to a trusted root (Web-PKI validation)', async () => {
    const pkix = createPkixCd({
      clock: systemClock,
      fetchCa: createHttpsFetcher({ port: server.port, resolveHost: async () => [{ address: '127.0.0.1', family: 4 }] }),
    })
    await rejectsCode(pkix.authenticate(NAME, good.certDer), 'ERR_PKIXCD_FETCH')
  })

  test('on recorded bytes: the core needs no network; an unsynced clock fails closed', () => {
    const r = verifyPkixCdChain(NAME, good.certDer, [root.certDer], systemClock)
    assert.equal(r.cas.length, 1)
    throwsCode(() => verifyPkixCdChain(NAME, good.certDer, [root.certDer], fixedClock(Date.now(), false)), 'ERR_CLOCK_UNSYNCED')
    throwsCode(() => verifyPkixCdChain(NAME, good.certDer, [root.certDer], fixedClock(Date.now() + 60 * DAY)), 'ERR_CERT_EXPIRED')
    throwsCode(() => verifyPkixCdChain(NAME, good.certDer, [], systemClock), 'ERR_PKIXCD_CHAIN')
  })
})
