/** buildPkixPath against `openssl verify` on chains openssl itself issued: CA flag, pathLen, keyCertSign, dates, critical extensions. */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type Certificate, parseCertificate } from '../../../src/x509/cert.js'
import { buildPkixPath } from '../../../src/x509/path.js'
import { openssl, opensslBytes, opensslOk } from '../../../testkit/openssl.js'
import { makeTempDir } from '../../../testkit/paths.js'

const tmp = makeTempDir('daneel-path-')
after(() => tmp.cleanup())
const f = (name: string): string => join(tmp.dir, name)

/** A key and a certificate issued by openssl (self-signed when no issuer), with the given extension lines. */
function issue(name: string, ext: string[], issuer?: string, days = 30): Certificate {
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(`${name}.key`)])
  writeFileSync(f(`${name}.ext`), `${ext.join('\n')}\n`)
  if (issuer === undefined) {
    opensslOk([
      'req',
      '-x509',
      '-key',
      f(`${name}.key`),
      '-subj',
      `/CN=${name}`,
      '-days',
      String(days),
      '-out',
      f(`${name}.pem`),
      '-config',
      '/dev/null',
      '-addext',
      'subjectKeyIdentifier=hash',
      ...ext.flatMap((e) => ['-addext', e]),
    ])
  } else {
    opensslOk(['req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${name}`, '-out', f(`${name}.csr`), '-config', '/dev/null'])
    opensslOk([
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f(`${issuer}.pem`),
      '-CAkey',
      f(`${issuer}.key`),
      '-set_serial',
      String(Math.floor(Math.random() * 1e9)),
      '-days',
      String(days),
      '-out',
      f(`${name}.pem`),
      '-extfile',
      f(`${name}.ext`),
    ])
  }
  return parseCertificate(opensslBytes(['x509', '-in', f(`${name}.pem`), '-outform', 'DER']))
}

/** openssl verify's verdict for leaf <- untrusted... <- root. */
function opensslVerdict(leaf: string, untrusted: string[], root: string): boolean {
  const chain = f(`untrusted-${leaf}.pem`)
  writeFileSync(chain, untrusted.map((u) => opensslOk(['x509', '-in', f(`${u}.pem`)])).join(''))
  const r = openssl(['verify', '-CAfile', f(`${root}.pem`), ...(untrusted.length > 0 ? ['-untrusted', chain] : []), f(`${leaf}.pem`)])
  return r.code === 0
}

const CA = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign']
const EE = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'subjectAltName=DNS:leaf.example.test']

describe('buildPkixPath agrees with openssl verify', () => {
  const root = issue('root', CA)
  const ica = issue('ica', CA, 'root')
  const leaf = issue('leaf', EE, 'ica')
  const now = Date.now()

  const cases: [string, () => [Certificate, string, Certificate[], string[]]][] = [
    ['leaf <- intermediate <- root', () => [leaf, 'leaf', [ica], ['ica']]],
    ['missing intermediate', () => [leaf, 'leaf', [], []]],
    [
      'intermediate with CA:FALSE',
      () => {
        const bad = issue('icaNotCa', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,keyCertSign'], 'root')
        return [issue('leafA', EE, 'icaNotCa'), 'leafA', [bad], ['icaNotCa']]
      },
    ],
    [
      'intermediate without keyCertSign',
      () => {
        const bad = issue('icaNoSign', ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature'], 'root')
        return [issue('leafB', EE, 'icaNoSign'), 'leafB', [bad], ['icaNoSign']]
      },
    ],
    [
      'pathLen 0 above a further CA',
      () => {
        const mid = issue('icaLen0', ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign'], 'root')
        const sub = issue('subCa', CA, 'icaLen0')
        return [issue('leafC', EE, 'subCa'), 'leafC', [sub, mid], ['subCa', 'icaLen0']]
      },
    ],
    [
      'an unknown critical extension on the leaf',
      () => [issue('leafD', [...EE, '1.3.6.1.4.1.99999.1=critical,ASN1:NULL'], 'ica'), 'leafD', [ica], ['ica']],
    ],
    [
      'an unknown non-critical extension on the leaf',
      () => [issue('leafE', [...EE, '1.3.6.1.4.1.99999.1=ASN1:NULL'], 'ica'), 'leafE', [ica], ['ica']],
    ],
  ]
  for (const [label, make] of cases) {
    it(label, () => {
      const [cert, name, pool, untrusted] = make()
      const theirs = opensslVerdict(name, untrusted, 'root')
      const ours = buildPkixPath(cert, pool, [root], Date.now())
      assert.equal(ours.ok, theirs, ours.ok ? 'ours ok' : ours.reason)
    })
  }
  it('dates: a leaf checked after it expires fails in both', () => {
    const r = openssl([
      'verify',
      '-attime',
      String(Math.floor(now / 1000) + 40 * 86400),
      '-CAfile',
      f('root.pem'),
      '-untrusted',
      f('ica.pem'),
      f('leaf.pem'),
    ])
    assert.notEqual(r.code, 0)
    const ours = buildPkixPath(leaf, [ica], [root], now + 40 * 86_400_000)
    assert.equal(ours.ok, false)
    assert.match(ours.ok ? '' : ours.reason, /expired/)
  })
})
