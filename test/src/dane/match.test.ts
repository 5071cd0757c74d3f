/** matchTlsa on our own identities: DANE-EE (3 0 0, 3 1 0, 3 1 1, 3 1 2), rollover RRsets, PKIX-CD, DANE-TA chains, unusable records. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { certificateMatchesName } from '../../../src/dane/cert-name.js'
import { matchTlsa } from '../../../src/dane/match.js'
import { makeTlsaRecord, parseTlsaRdata } from '../../../src/dane/tlsa.js'
import type { TlsaRecord } from '../../../src/dane/types.js'
import { buildCertificate, buildSelfSignedCertificate, issueCertificate } from '../../../src/x509/build.js'
import { type Certificate, parseCertificate } from '../../../src/x509/cert.js'
import { generateKeyPair } from '../../../src/x509/keys.js'

const NAME = 'dev1.air._device.example.com'
const NOW = Date.UTC(2026, 10, 25)
const DAY = 86_400_000

function identity(type: 'p256' | 'ed25519' | 'rsa2048' = 'p256', opts: { now?: number; days?: number; name?: string; ca?: boolean } = {}) {
  const { privateKey } = generateKeyPair(type)
  const cert = parseCertificate(
    buildSelfSignedCertificate({
      name: opts.name ?? NAME,
      key: privateKey,
      now: opts.now ?? NOW,
      days: opts.days ?? 365,
      ca: opts.ca ?? false,
    }),
  )
  return { key: privateKey, cert }
}

type IssueOptions = Parameters<typeof issueCertificate>[0]
/** An intermediate `mid.example.com` with `key`, issued by `issuerCert` at NOW: a CA or, to be refused, not. */
const intermediate = (key: IssueOptions['subjectKey'], issuerCert: Certificate, issuerKey: IssueOptions['issuerKey'], ca: boolean) =>
  issueCertificate({ subjectCN: 'mid.example.com', subjectKey: key, issuerCert, issuerKey, now: NOW, ca })

const current = identity('p256')
const next = identity('p256')
const staged = identity('ed25519')

describe('DANE-EE(3): data only, no dates, no names (RFC 7671 §5.1)', () => {
  for (const [s, m] of [
    [0, 0],
    [1, 0],
    [1, 1],
    [1, 2],
    [0, 1],
    [0, 2],
  ] as const) {
    it(`3 ${s} ${m} matches its certificate and not another`, () => {
      const rec = makeTlsaRecord(current.cert, 3, s, m)
      const ok = matchTlsa([rec], [current.cert], { now: NOW })
      assert.ok(ok.ok)
      assert.equal(ok.record, rec)
      assert.equal(ok.depth, 0)
      assert.equal(matchTlsa([rec], [next.cert], { now: NOW }).ok, false)
    })
  }
  it('an expired, a not-yet-valid and a wrongly named certificate still match under usage 3', () => {
    const old = identity('p256', { now: NOW - 400 * DAY, days: 10 })
    const future = identity('rsa2048', { now: NOW + 100 * DAY })
    const other = identity('p256', { name: 'other._device.example.org' })
    for (const c of [old, future, other]) {
      const res = matchTlsa([makeTlsaRecord(c.cert, 3, 1, 1)], [c.cert], { now: NOW, name: NAME })
      assert.ok(res.ok, JSON.stringify(res))
    }
    // unless the caller asks for OpenSSL's default EE name checks
    const res = matchTlsa([makeTlsaRecord(other.cert, 3, 1, 1)], [other.cert], { now: NOW, name: NAME, checkEeName: true })
    assert.equal(res.ok ? 'ok' : res.failure, 'name-mismatch')
  })
})

describe('rollover RRsets (docs/contract.md "TLSA": match whole RRsets, several records during a rollover)', () => {
  const oldRec = makeTlsaRecord(current.cert, 3, 1, 1)
  const newRec = makeTlsaRecord(next.cert, 3, 1, 1)
  const stagedRec = makeTlsaRecord(staged.cert, 3, 0, 0)
  it('two records: old and new keys both authenticate, each by its own record', () => {
    const set = [oldRec, newRec]
    const a = matchTlsa(set, [current.cert], { now: NOW })
    const b = matchTlsa(set, [next.cert], { now: NOW })
    assert.ok(a.ok && a.record === oldRec)
    assert.ok(b.ok && b.record === newRec)
    assert.equal(matchTlsa(set, [staged.cert], { now: NOW }).ok, false)
  })
  it('three records, mixed forms (3 1 1, 3 1 1, 3 0 0): each of three keys matches, a fourth does not', () => {
    const set = [newRec, stagedRec, oldRec]
    for (const [c, rec] of [
      [current, oldRec],
      [next, newRec],
      [staged, stagedRec],
    ] as const) {
      const res = matchTlsa(set, [c.cert], { now: NOW })
      assert.ok(res.ok && res.record === rec)
    }
    assert.equal(matchTlsa(set, [identity().cert], { now: NOW }).ok, false)
  })
  it('order within the RRset does not matter', () => {
    for (const set of [
      [oldRec, newRec, stagedRec],
      [stagedRec, oldRec, newRec],
      [newRec, stagedRec, oldRec],
    ]) {
      assert.ok(matchTlsa(set, [next.cert], { now: NOW }).ok)
    }
  })
})

describe('unusable records are ignored, not errors (RFC 7671 §4)', () => {
  const good = makeTlsaRecord(current.cert, 3, 1, 1)
  const junk: TlsaRecord[] = [
    { usage: 7 as 3, selector: 1, matchingType: 1, data: good.data },
    { usage: 3, selector: 5 as 1, matchingType: 1, data: good.data },
    { usage: 3, selector: 1, matchingType: 9 as 1, data: good.data },
    { usage: 3, selector: 1, matchingType: 1, data: good.data.slice(1) },
    { usage: 3, selector: 1, matchingType: 0, data: new Uint8Array() },
  ]
  it('a good record among junk still matches', () => {
    assert.ok(matchTlsa([...junk, good], [current.cert], { now: NOW }).ok)
  })
  it('only junk: no usable records', () => {
    const res = matchTlsa(junk, [current.cert], { now: NOW })
    assert.equal(res.ok ? 'ok' : res.failure, 'no-usable-records')
  })
  it('digest agility (RFC 7671 §9): a SHA2-512 record hides SHA2-256 records of the same usage and selector', () => {
    const wrong512 = makeTlsaRecord(next.cert, 3, 1, 2)
    assert.equal(matchTlsa([good, wrong512], [current.cert], { now: NOW }).ok, false)
    assert.ok(matchTlsa([good, wrong512], [current.cert], { now: NOW, digestPreference: false }).ok)
    // Full(0) records are never hidden
    assert.ok(matchTlsa([makeTlsaRecord(current.cert, 3, 1, 0), wrong512], [current.cert], { now: NOW }).ok)
  })
})

describe('PKIX-CD(4) and PKIX usages', () => {
  it('usage 4 matches data-wise and says so (the caller validates the PKIX-CD chain)', () => {
    const ca = identity('p256', { ca: true })
    const res = matchTlsa([makeTlsaRecord(ca.cert, 4, 0, 0)], [ca.cert], { now: NOW })
    assert.ok(res.ok)
    assert.equal(res.usage, 4)
  })
  it('usage 3 is preferred over usage 4 in one RRset', () => {
    const res = matchTlsa([makeTlsaRecord(current.cert, 4, 0, 0), makeTlsaRecord(current.cert, 3, 1, 1)], [current.cert], { now: NOW })
    assert.ok(res.ok && res.usage === 3)
  })
  it('usages 0/1 need PKIX: untrusted fails, pkixTrusted passes, dates are checked with anchors', () => {
    const rec = makeTlsaRecord(current.cert, 1, 1, 1)
    const untrusted = matchTlsa([rec], [current.cert], { now: NOW })
    assert.equal(untrusted.ok ? 'ok' : untrusted.failure, 'pkix-untrusted')
    assert.ok(matchTlsa([rec], [current.cert], { now: NOW, pkixTrusted: true }).ok)
    const caKey = generateKeyPair('p256').privateKey
    const ca = parseCertificate(buildSelfSignedCertificate({ name: 'ca.example.com', key: caKey, ca: true, now: NOW, days: 3650 }))
    const leaf = issueCertificate({ subjectCN: NAME, subjectKey: current.key, issuerCert: ca, issuerKey: caKey, now: NOW, days: 30 })
    const leafRec = makeTlsaRecord(leaf, 1, 0, 1)
    assert.ok(matchTlsa([leafRec], [leaf], { now: NOW, pkixAnchors: [ca], name: NAME }).ok)
    const late = matchTlsa([leafRec], [leaf], { now: NOW + 60 * DAY, pkixAnchors: [ca], name: NAME })
    assert.equal(late.ok ? 'ok' : late.failure, 'pkix-untrusted')
    const wrongName = matchTlsa([leafRec], [leaf], { now: NOW, pkixAnchors: [ca], name: 'other._device.example.com' })
    assert.equal(wrongName.ok ? 'ok' : wrongName.failure, 'name-mismatch')
  })
})

describe('DANE-TA(2) chains built here', () => {
  const rootKey = generateKeyPair('p256').privateKey
  const root = parseCertificate(buildSelfSignedCertificate({ name: 'root.example.com', key: rootKey, ca: true, now: NOW, days: 3650 }))
  const leafKey = generateKeyPair('p256').privateKey
  it('2 1 1 on the issuer authenticates its leaf (depth 1); dates of the leaf are checked', () => {
    const leaf = issueCertificate({ subjectCN: NAME, subjectKey: leafKey, issuerCert: root, issuerKey: rootKey, now: NOW, days: 10 })
    const rec = makeTlsaRecord(root, 2, 1, 1)
    const res = matchTlsa([rec], [leaf, root], { now: NOW, name: NAME })
    assert.ok(res.ok && res.depth === 1 && res.cert === root)
    const expired = matchTlsa([rec], [leaf, root], { now: NOW + 20 * DAY, name: NAME })
    assert.equal(expired.ok ? 'ok' : expired.failure, 'chain-invalid')
    // the TA certificate may come from DNS (2 0 0) when the peer sends only its leaf
    assert.ok(matchTlsa([makeTlsaRecord(root, 2, 0, 0)], [leaf], { now: NOW, name: NAME }).ok)
  })
  it('an intermediate that is not a CA breaks the chain (the original system skipped this check)', () => {
    const openKey = generateKeyPair('p256').privateKey
    const openRoot = parseCertificate(
      buildCertificate({
        subjectCN: 'open-root.example.com',
        subjectKey: openKey,
        issuerKey: openKey,
        ca: true,
        notBefore: NOW - DAY,
        notAfter: NOW + 3650 * DAY,
      }),
    )
    const midKey = generateKeyPair('p256').privateKey
    const mid = intermediate(midKey, openRoot, openKey, false)
    const leaf = issueCertificate({ subjectCN: NAME, subjectKey: leafKey, issuerCert: mid, issuerKey: midKey, now: NOW })
    const res = matchTlsa([makeTlsaRecord(openRoot, 2, 1, 1)], [leaf, mid, openRoot], { now: NOW })
    assert.equal(res.ok ? 'ok' : res.failure, 'chain-invalid')
    assert.match(res.ok ? '' : res.reason, /not a CA/)
    // the same shape with a CA intermediate is accepted
    const mid2 = intermediate(midKey, openRoot, openKey, true)
    assert.ok(matchTlsa([makeTlsaRecord(openRoot, 2, 1, 1)], [leaf, mid2, openRoot], { now: NOW }).ok)
  })
  it('pathLen 0 on the TA forbids an intermediate below it', () => {
    const midKey = generateKeyPair('p256').privateKey
    const mid = intermediate(midKey, root, rootKey, true)
    const leaf = issueCertificate({ subjectCN: NAME, subjectKey: leafKey, issuerCert: mid, issuerKey: midKey, now: NOW })
    // root was made with pathLen 0 (buildSelfSignedCertificate ca: true)
    const res = matchTlsa([makeTlsaRecord(root, 2, 0, 1)], [leaf, mid, root], { now: NOW })
    assert.equal(res.ok ? 'ok' : res.failure, 'chain-invalid')
    assert.ok(matchTlsa([makeTlsaRecord(mid, 2, 0, 1)], [leaf, mid, root], { now: NOW }).ok)
  })
  it('a forged leaf (signed by another key under the same issuer name) does not chain', () => {
    const evilKey = generateKeyPair('p256').privateKey
    const evilRoot = parseCertificate(buildSelfSignedCertificate({ name: 'root.example.com', key: evilKey, ca: true, now: NOW }))
    const leaf = issueCertificate({ subjectCN: NAME, subjectKey: leafKey, issuerCert: evilRoot, issuerKey: evilKey, now: NOW })
    assert.equal(matchTlsa([makeTlsaRecord(root, 2, 1, 1)], [leaf, root], { now: NOW }).ok, false)
  })
})

it('an empty chain or RRset is a failure, not a throw', () => {
  assert.equal(matchTlsa([], [current.cert], { now: NOW }).ok, false)
  assert.equal(matchTlsa([parseTlsaRdata(`3 1 1 ${'00'.repeat(32)}`)], [] as Certificate[], { now: NOW }).ok, false)
})

it('name checks: SAN dNSName (case-insensitive), a leftmost-label wildcard, CN only without SAN', () => {
  const key = generateKeyPair('p256').privateKey
  const ca = parseCertificate(buildSelfSignedCertificate({ name: 'ca.example.com', key, ca: true, now: NOW }))
  const wild = issueCertificate({
    subjectCN: 'ignored.example.net',
    dnsNames: ['*.Example.com', 'exact._device.example.org'],
    subjectKey: key,
    issuerCert: ca,
    issuerKey: key,
    now: NOW,
  })
  assert.equal(certificateMatchesName(wild, 'host.example.com.'), true)
  assert.equal(certificateMatchesName(wild, 'a.b.example.com'), false)
  assert.equal(certificateMatchesName(wild, 'example.com'), false)
  assert.equal(certificateMatchesName(wild, 'EXACT._device.example.org'), true)
  assert.equal(certificateMatchesName(wild, 'ignored.example.net'), false)
  const cnOnly = issueCertificate({ subjectCN: 'cn.example.com', dnsNames: [], subjectKey: key, issuerCert: ca, issuerKey: key, now: NOW })
  assert.equal(certificateMatchesName(cnOnly, 'cn.example.com'), true)
  assert.equal(certificateMatchesName(cnOnly, 'other.example.com'), false)
})

it('an unsynced clock: DANE-EE and PKIX-CD still match, date-dependent usages fail closed', () => {
  const key = generateKeyPair('p256').privateKey
  const ca = parseCertificate(buildSelfSignedCertificate({ name: 'ca.example.com', key, ca: true, now: NOW }))
  const leaf = issueCertificate({ subjectCN: NAME, subjectKey: current.key, issuerCert: ca, issuerKey: key, now: NOW })
  const opts = { now: 0, clockSynced: false }
  assert.ok(matchTlsa([makeTlsaRecord(leaf, 3, 1, 1)], [leaf, ca], opts).ok)
  assert.ok(matchTlsa([makeTlsaRecord(leaf, 4, 0, 0)], [leaf, ca], opts).ok)
  for (const rec of [makeTlsaRecord(ca, 2, 1, 1), makeTlsaRecord(leaf, 1, 1, 1), makeTlsaRecord(ca, 0, 0, 1)]) {
    const res = matchTlsa([rec], [leaf, ca], { ...opts, pkixTrusted: true })
    assert.equal(res.ok ? 'ok' : res.failure, 'clock-unsynced')
  }
  const none = matchTlsa([makeTlsaRecord(ca, 3, 1, 1)], [leaf, ca], opts)
  assert.equal(none.ok ? 'ok' : none.failure, 'no-match')
})
