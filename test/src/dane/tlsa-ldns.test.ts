/** ldns-dane (ldnsutils) as a second, independent oracle: record creation, and verification of whole RRsets. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { matchTlsa } from '../../../src/dane/match.js'
import { formatTlsaRdata, makeTlsaRecord } from '../../../src/dane/tlsa.js'
import type { TlsaRecord } from '../../../src/dane/types.js'
import { buildSelfSignedCertificate } from '../../../src/x509/build.js'
import { type Certificate, parseCertificate } from '../../../src/x509/cert.js'
import { generateKeyPair } from '../../../src/x509/keys.js'
import { pemEncode } from '../../../src/x509/pem.js'
import { makeTempDir } from '../../../testkit/paths.js'

const NAME = 'dev1.air._device.example.test'
const tmp = makeTempDir('daneel-ldns-')
after(() => tmp.cleanup())

function ldnsDane(args: string[]): { code: number; out: string } {
  const r = spawnSync('ldns-dane', args, { encoding: 'utf8', timeout: 30_000 })
  if (r.error !== undefined) throw r.error
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` }
}

let k = 0
function certFile(cert: Certificate): string {
  const f = join(tmp.dir, `c${++k}.pem`)
  writeFileSync(f, pemEncode(cert.der, 'CERTIFICATE'))
  return f
}

/** ldns-dane's verdict for a certificate against an RRset (it wants `_443._tcp.` owner names; -n: no PKIX). */
function ldnsVerify(cert: Certificate, rrset: readonly TlsaRecord[]): boolean {
  const f = join(tmp.dir, `t${++k}.tlsa`)
  writeFileSync(f, rrset.map((r) => `_443._tcp.${NAME}. 3600 IN TLSA ${formatTlsaRdata(r)}\n`).join(''))
  const r = ldnsDane(['-n', '-c', certFile(cert), '-t', f, 'verify', NAME, '443'])
  assert.ok(r.code === 0 || r.code === 1, r.out)
  return r.code === 0
}

const make = (type: 'p256' | 'ed25519' | 'rsa2048', now = Date.now(), days = 365): Certificate =>
  parseCertificate(buildSelfSignedCertificate({ name: NAME, key: generateKeyPair(type).privateKey, now, days }))

describe('ldns-dane create computes the same records', () => {
  for (const type of ['p256', 'rsa2048'] as const) {
    it(type, () => {
      const cert = make(type)
      const f = certFile(cert)
      for (const s of [0, 1] as const) {
        for (const m of [0, 1, 2] as const) {
          const r = ldnsDane(['-c', f, 'create', NAME, '443', '3', String(s), String(m)])
          assert.equal(r.code, 0, r.out)
          const theirs = /IN\s+TLSA\s+(\d \d \d \S+)/.exec(r.out)?.[1]
          assert.equal(theirs?.toUpperCase(), formatTlsaRdata(makeTlsaRecord(cert, 3, s, m)).toUpperCase())
        }
      }
    })
  }
})

describe('ldns-dane verify and matchTlsa agree', () => {
  const a = make('p256')
  const b = make('rsa2048')
  const c = make('p256')
  const expired = make('p256', Date.now() - 400 * 86_400_000, 10)
  const cases: [string, Certificate, TlsaRecord[]][] = [
    ['3 0 0 own', a, [makeTlsaRecord(a, 3, 0, 0)]],
    ['3 1 1 other', a, [makeTlsaRecord(b, 3, 1, 1)]],
    ['3 1 2 own', b, [makeTlsaRecord(b, 3, 1, 2)]],
    ['rollover of 2, new first', a, [makeTlsaRecord(c, 3, 1, 1), makeTlsaRecord(a, 3, 1, 1)]],
    ['rollover of 3, mixed forms', b, [makeTlsaRecord(a, 3, 1, 1), makeTlsaRecord(b, 3, 0, 0), makeTlsaRecord(c, 3, 1, 1)]],
    ['rollover of 3, none ours', a, [makeTlsaRecord(b, 3, 1, 1), makeTlsaRecord(c, 3, 1, 1), makeTlsaRecord(b, 3, 0, 0)]],
    ['expired certificate under DANE-EE', expired, [makeTlsaRecord(expired, 3, 1, 1)]],
  ]
  for (const [label, cert, rrset] of cases) {
    it(label, () => {
      const ours = matchTlsa(rrset, [cert], { now: Date.now() }).ok
      assert.equal(ours, ldnsVerify(cert, rrset))
    })
  }
})
