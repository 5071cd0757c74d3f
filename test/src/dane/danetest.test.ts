/** OpenSSL's test/danetest.in (50 cases, Apache-2.0, see test/fixtures/dane/) through matchTlsa, with OpenSSL's expected outcomes. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { type MatchResult, matchTlsa } from '../../../src/dane/match.js'
import { parseTlsaRdata } from '../../../src/dane/tlsa.js'
import type { TlsaRecord } from '../../../src/dane/types.js'
import { type Certificate, parseCertificate } from '../../../src/x509/cert.js'
import { pemDecode } from '../../../src/x509/pem.js'
import { fixturePath } from '../../../testkit/paths.js'

interface DaneCase {
  n: number
  comment: string
  records: TlsaRecord[]
  /** Record lines after the counted ones: OpenSSL's harness skips them (cases 39-42). */
  extra: TlsaRecord[]
  certs: Certificate[]
  noNameChecks: boolean
  want: number
  wantDepth: number
}

function loadCerts(): Map<string, Certificate> {
  const text = readFileSync(fixturePath('dane/danetest-certs.pem'), 'utf8')
  const names = [...text.matchAll(/^name=(\S+)/gm)].map((m) => m[1] as string)
  const ders = pemDecode(text, 'CERTIFICATE')
  assert.equal(names.length, ders.length)
  return new Map(names.map((name, i) => [name, parseCertificate(ders[i] as Uint8Array)]))
}

/** The danetest.in grammar, as danetest.c reads it. */
function loadCases(): DaneCase[] {
  const certs = loadCerts()
  const lines = readFileSync(fixturePath('dane/danetest-cases.txt'), 'utf8').split('\n')
  const cases: DaneCase[] = []
  let comment = ''
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim()
    if (line === '' || line.startsWith('#')) {
      if (/^# \D/.test(line)) comment += `${line.slice(2)} `
      if (line === '') comment = ''
      continue
    }
    const [ntlsa, , noncheck, want, depth] = line.split(/\s+/).map(Number) as [number, number, number, number, number]
    const records: TlsaRecord[] = []
    for (let k = 0; k < ntlsa; k++) records.push(parseTlsaRdata(lines[++i] as string))
    const extra: TlsaRecord[] = []
    let next = (lines[++i] as string).trim()
    while (!next.startsWith('certs:')) {
      extra.push(parseTlsaRdata(next))
      next = (lines[++i] as string).trim()
    }
    const chain = next
      .slice(6)
      .trim()
      .split(/\s+/)
      .map((name) => certs.get(name) ?? assert.fail(`unknown cert ${name}`))
    cases.push({
      n: cases.length + 1,
      comment: comment.trim(),
      records,
      extra,
      certs: chain,
      noNameChecks: noncheck === 1,
      want,
      wantDepth: depth,
    })
    comment = ''
  }
  return cases
}

/** OpenSSL X509_V_* code for a match result: 0 ok, 20 no PKIX issuer, 62 hostname mismatch, 65 DANE no match. */
function verifyCode(res: MatchResult): number {
  if (res.ok) return 0
  switch (res.failure) {
    case 'name-mismatch':
      return 62
    case 'pkix-untrusted':
      return 20
    default:
      return 65
  }
}

const certs = loadCerts()
const cases = loadCases()
// danetest.c: base domain example.com; CAfile danetest.pem (Root CA, see the fixture README); SHA2-256 ranked over SHA2-512
const run = (c: DaneCase, records: TlsaRecord[]): MatchResult =>
  matchTlsa(records, c.certs, {
    now: Date.now(),
    name: 'example.com',
    checkEeName: !c.noNameChecks,
    pkixAnchors: [certs.get('root') as Certificate],
    digestPreference: [1, 2],
  })

describe('OpenSSL danetest.in', () => {
  it('has all 50 cases', () => {
    assert.equal(cases.length, 50)
  })
  for (const c of cases) {
    it(`case ${c.n}: ${c.records.map((r) => `${r.usage} ${r.selector} ${r.matchingType}`).join(' + ')} over ${c.certs.length} cert(s) -> ${c.want} at depth ${c.wantDepth}${c.comment ? ` (${c.comment})` : ''}`, () => {
      const res = run(c, c.records)
      assert.deepEqual(
        { code: verifyCode(res), depth: res.depth },
        { code: c.want, depth: c.wantDepth },
        JSON.stringify({ ...res, record: undefined, cert: undefined }),
      )
    })
  }
  it('cases 39-42 give the same outcome with every listed record (the precedence they are named for)', () => {
    const mixed = cases.filter((c) => c.extra.length > 0)
    assert.deepEqual(
      mixed.map((c) => c.n),
      [39, 40, 41, 42],
    )
    for (const c of mixed) {
      const res = run(c, [...c.records, ...c.extra])
      assert.deepEqual({ code: verifyCode(res), depth: res.depth }, { code: c.want, depth: c.wantDepth }, `case ${c.n}`)
      assert.ok(res.ok && res.record === c.records[0], `case ${c.n}: the winning record is the first`)
    }
  })
  it('PKIX cases fail without a trust anchor (usages 0/1 need PKIX)', () => {
    const pkix = cases.filter((c) => c.want === 0 && c.records.every((r) => r.usage <= 1))
    assert.ok(pkix.length >= 14)
    for (const c of pkix) {
      const res = matchTlsa(c.records, c.certs, { now: Date.now(), name: 'example.com', pkixAnchors: [] })
      assert.equal(res.ok, false, `case ${c.n}`)
    }
  })
})
