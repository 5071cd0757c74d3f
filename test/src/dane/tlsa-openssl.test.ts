/** Our TLSA records checked by OpenSSL: data equal to what openssl computes, and s_client -dane_tlsa_rrdata verdicts. */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { matchTlsa } from '../../../src/dane/match.js'
import { formatTlsaRdata, makeTlsaRecord, parseTlsaRdata } from '../../../src/dane/tlsa.js'
import type { TlsaMatchingType, TlsaSelector } from '../../../src/dane/types.js'
import { buildSelfSignedCertificate, issueCertificate } from '../../../src/x509/build.js'
import { type Certificate, parseCertificate } from '../../../src/x509/cert.js'
import { toHex } from '../../../src/x509/hex.js'
import { generateKeyPair, type KeyTypeOption, privateKeyToPkcs8Pem } from '../../../src/x509/keys.js'
import { pemEncode } from '../../../src/x509/pem.js'
import { daneVerify, opensslBytes, startTlsServer, type TlsServer } from '../../../testkit/openssl.js'
import { makeTempDir } from '../../../testkit/paths.js'

const NAME = 'c90a0d441683.airquality._device.example.test'
const tmp = makeTempDir('daneel-tlsa-openssl-')
after(() => tmp.cleanup())

interface Subject {
  type: KeyTypeOption
  cert: Certificate
  certPath: string
  keyPath: string
}

function makeSubject(type: KeyTypeOption, ca = false): Subject {
  const { privateKey } = generateKeyPair(type)
  const cert = parseCertificate(buildSelfSignedCertificate({ name: NAME, key: privateKey, ca }))
  const certPath = join(tmp.dir, `${type}${ca ? '-ca' : ''}.crt.pem`)
  const keyPath = join(tmp.dir, `${type}${ca ? '-ca' : ''}.key.pem`)
  writeFileSync(certPath, pemEncode(cert.der, 'CERTIFICATE'))
  writeFileSync(keyPath, privateKeyToPkcs8Pem(privateKey), { mode: 0o600 })
  return { type, cert, certPath, keyPath }
}

/** What openssl itself computes for a selector and matching type (the oracle, no code of ours involved). */
function opensslData(certPath: string, selector: TlsaSelector, matching: TlsaMatchingType): string {
  const selected =
    selector === 0
      ? opensslBytes(['x509', '-in', certPath, '-outform', 'DER'])
      : opensslBytes(['pkey', '-pubin', '-outform', 'DER'], opensslBytes(['x509', '-in', certPath, '-noout', '-pubkey']))
  const bytes = matching === 0 ? selected : opensslBytes(['dgst', matching === 1 ? '-sha256' : '-sha512', '-binary'], selected)
  return toHex(bytes)
}

const subjects = (['p256', 'ed25519', 'rsa2048'] as const).map((t) => makeSubject(t))

describe('TLSA data equals what openssl computes', () => {
  for (const s of subjects) {
    for (const selector of [0, 1] as const) {
      for (const matching of [0, 1, 2] as const) {
        it(`${s.type} ${selector} ${matching}`, () => {
          const rec = makeTlsaRecord(s.cert.der, 3, selector, matching)
          assert.equal(toHex(rec.data), opensslData(s.certPath, selector, matching))
        })
      }
    }
  }
})

describe('openssl s_client -dane_tlsa_rrdata against s_server holding our certificate', () => {
  const servers = new Map<string, TlsServer>()
  const ca = makeSubject('p256', true)
  before(async () => {
    for (const s of [...subjects, ca]) servers.set(s.certPath, await startTlsServer({ certPath: s.certPath, keyPath: s.keyPath }))
  })
  after(async () => {
    for (const srv of servers.values()) await srv.stop()
  })
  const port = (s: Subject): number => (servers.get(s.certPath) as TlsServer).port

  for (const s of [...subjects, ca]) {
    const label = `${s.type}${s === ca ? ' (NO_DNSSEC CA:TRUE)' : ''}`
    it(`${label}: our 3 0 0, 3 1 0, 3 1 1, 3 0 1, 3 1 2, 3 0 2 each give verify code 0`, async () => {
      for (const [sel, mt] of [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
        [1, 2],
        [0, 2],
      ] as const) {
        const rdata = formatTlsaRdata(makeTlsaRecord(s.cert, 3, sel, mt))
        const v = await daneVerify({ port: port(s), domain: NAME, rrdata: [rdata] })
        assert.equal(v.code, 0, `${rdata.slice(0, 12)}: ${v.output.slice(-400)}`)
        assert.match(v.matched ?? '', new RegExp(`DANE TLSA 3 ${sel} ${mt} .* matched EE certificate at depth 0`))
        // and our matcher agrees
        assert.equal(matchTlsa([parseTlsaRdata(rdata)], [s.cert], { now: Date.now() }).ok, true)
      }
    })
    it(`${label}: a wrong record gives 65, and our matcher agrees`, async () => {
      const other = subjects.find((o) => o !== s) as Subject
      const wrong = formatTlsaRdata(makeTlsaRecord(other.cert, 3, 1, 1))
      const v = await daneVerify({ port: port(s), domain: NAME, rrdata: [wrong] })
      assert.equal(v.code, 65)
      assert.equal(matchTlsa([parseTlsaRdata(wrong)], [s.cert], { now: Date.now() }).ok, false)
    })
  }

  it('rollover RRsets of two and three records (one matching) verify in OpenSSL and in ours', async () => {
    const [p256, ed, rsa] = subjects as [Subject, Subject, Subject]
    const sets = [
      [makeTlsaRecord(ed.cert, 3, 1, 1), makeTlsaRecord(p256.cert, 3, 1, 1)],
      [makeTlsaRecord(p256.cert, 3, 0, 0), makeTlsaRecord(ed.cert, 3, 0, 0)],
      [makeTlsaRecord(rsa.cert, 3, 1, 1), makeTlsaRecord(ed.cert, 3, 1, 1), makeTlsaRecord(p256.cert, 3, 1, 1)],
    ]
    for (const set of sets) {
      const v = await daneVerify({ port: port(p256), domain: NAME, rrdata: set.map(formatTlsaRdata) })
      assert.equal(v.code, 0, v.output.slice(-300))
      const ours = matchTlsa(set, [p256.cert], { now: Date.now() })
      assert.ok(ours.ok)
      assert.equal(
        toHex(ours.record.data),
        toHex(
          (set.find((r) => toHex(r.data) === toHex(makeTlsaRecord(p256.cert, r.usage, r.selector, r.matchingType).data)) ?? assert.fail())
            .data,
        ),
      )
    }
    const none = [makeTlsaRecord(rsa.cert, 3, 1, 1), makeTlsaRecord(ed.cert, 3, 1, 1)]
    assert.equal((await daneVerify({ port: port(p256), domain: NAME, rrdata: none.map(formatTlsaRdata) })).code, 65)
    assert.equal(matchTlsa(none, [p256.cert], { now: Date.now() }).ok, false)
  })

  it('DANE-TA(2): a chain issued by our issueCertificate verifies in OpenSSL and in ours; a wrong TA does not', async () => {
    const caKey = generateKeyPair('p256').privateKey
    const ca = parseCertificate(buildSelfSignedCertificate({ name: 'ca.example.test', key: caKey, ca: true }))
    const leafKey = generateKeyPair('rsa2048').privateKey
    const leaf = issueCertificate({ subjectCN: NAME, subjectKey: leafKey, issuerCert: ca, issuerKey: caKey })
    const chainPath = join(tmp.dir, 'chain.pem')
    const leafKeyPath = join(tmp.dir, 'chain.key')
    writeFileSync(chainPath, pemEncode(leaf.der, 'CERTIFICATE') + pemEncode(ca.der, 'CERTIFICATE'))
    writeFileSync(leafKeyPath, privateKeyToPkcs8Pem(leafKey), { mode: 0o600 })
    const srv = await startTlsServer({ certPath: chainPath, keyPath: leafKeyPath })
    try {
      for (const [sel, mt] of [
        [0, 1],
        [1, 1],
        [1, 2],
        [0, 0],
      ] as const) {
        const rec = makeTlsaRecord(ca, 2, sel, mt)
        const v = await daneVerify({ port: srv.port, domain: NAME, rrdata: [formatTlsaRdata(rec)] })
        assert.equal(v.code, 0, v.output.slice(-300))
        assert.match(v.matched ?? '', /matched TA certificate at depth 1/)
        const ours = matchTlsa([rec], [leaf, ca], { now: Date.now(), name: NAME })
        assert.ok(ours.ok && ours.depth === 1)
      }
      // DANE-TA checks names (RFC 7671 §5.2): both refuse another domain
      const rec = makeTlsaRecord(ca, 2, 1, 1)
      const other = 'someone-else._device.example.test'
      assert.equal((await daneVerify({ port: srv.port, domain: other, rrdata: [formatTlsaRdata(rec)] })).code, 62)
      const ours = matchTlsa([rec], [leaf, ca], { now: Date.now(), name: other })
      assert.equal(ours.ok ? 'ok' : ours.failure, 'name-mismatch')
      const wrong = makeTlsaRecord((subjects[0] as Subject).cert, 2, 1, 1)
      // with TA records and no match OpenSSL falls back to PKIX, which fails on the untrusted self-signed CA (19)
      assert.ok([19, 65].includes((await daneVerify({ port: srv.port, domain: NAME, rrdata: [formatTlsaRdata(wrong)] })).code))
      assert.equal(matchTlsa([wrong], [leaf, ca], { now: Date.now(), name: NAME }).ok, false)
    } finally {
      await srv.stop()
    }
  })
})
