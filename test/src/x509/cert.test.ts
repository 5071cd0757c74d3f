/** Certificates: ours parse in openssl with our extensions, openssl's parse in ours, signatures verify both ways. */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { isDaneelError } from '../../../src/errors.js'
import { buildSelfSignedCertificate, issueCertificate } from '../../../src/x509/build.js'
import { parseCertificate, verifyCertificateSignature } from '../../../src/x509/cert.js'
import { toHex } from '../../../src/x509/hex.js'
import { generateKeyPair, privateKeyToPkcs8Pem, spkiOf } from '../../../src/x509/keys.js'
import { pemDecode, pemEncode } from '../../../src/x509/pem.js'
import { keyIdentifier } from '../../../src/x509/spki.js'
import { newKeyRequestArgs, openssl, opensslBytes, opensslOk, selfSignedP256Args } from '../../../testkit/openssl.js'
import { makeTempDir } from '../../../testkit/paths.js'

const NAME = 'dev1.air._device.example.test'
const tmp = makeTempDir('daneel-cert-')
after(() => tmp.cleanup())
const path = (f: string): string => join(tmp.dir, f)
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0)

describe('our self-signed certificates, read by openssl x509 -text', () => {
  for (const type of ['p256', 'ed25519', 'rsa2048'] as const) {
    for (const ca of [false, true]) {
      it(`${type}${ca ? ' NO_DNSSEC (CA)' : ''}: subject, SAN, BasicConstraints, KeyUsage, SKI, AKI, validity`, () => {
        const { privateKey } = generateKeyPair(type)
        const der = buildSelfSignedCertificate({ name: NAME, key: privateKey, ca, days: 30, now: NOW })
        const f = path(`${type}-${ca}.pem`)
        writeFileSync(f, pemEncode(der, 'CERTIFICATE'))
        const text = opensslOk(['x509', '-in', f, '-noout', '-text'])
        assert.match(text, new RegExp(`Subject: CN\\s?=\\s?${NAME.replace(/\./g, '\\.')}`))
        assert.match(text, new RegExp(`X509v3 Subject Alternative Name: \\n\\s+DNS:${NAME.replace(/\./g, '\\.')}\\n`))
        assert.match(
          text,
          ca ? /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/ : /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/,
        )
        const ku = /X509v3 Key Usage: critical\n\s+(.*)\n/.exec(text)?.[1] ?? ''
        assert.match(ku, /Digital Signature/)
        assert.equal(/Certificate Sign/.test(ku), ca)
        assert.equal(/Key Agreement/.test(ku), type === 'p256')
        assert.equal(/Key Encipherment/.test(ku), type === 'rsa2048')
        const ski = /X509v3 Subject Key Identifier: \n\s+(\S+)\n/.exec(text)?.[1]
        const aki = /X509v3 Authority Key Identifier: \n\s+(?:keyid:)?(\S+)\n/.exec(text)?.[1]
        assert.equal(ski, toHex(keyIdentifier(spkiOf(privateKey)), ':').toUpperCase())
        assert.equal(aki, ski)
        assert.match(text, /Not Before: Nov 25 11:55:00 2026 GMT/)
        assert.match(text, /Not After : Dec 25 12:00:00 2026 GMT/)
        // openssl checks the self-signature (and, for the CA form, that it may anchor a chain)
        assert.match(opensslOk(['verify', '-attime', String(NOW / 1000), '-CAfile', f, f]), /: OK/)
      })
    }
  }

  it('SKI is RFC 5280 method 1, the same as openssl computes for the same key', () => {
    const { privateKey } = generateKeyPair('p256')
    writeFileSync(path('k.pem'), privateKeyToPkcs8Pem(privateKey), { mode: 0o600 })
    const theirs = opensslOk([
      'req',
      '-new',
      '-x509',
      '-key',
      path('k.pem'),
      '-subj',
      '/CN=x',
      '-days',
      '1',
      '-addext',
      'subjectKeyIdentifier=hash',
    ])
    const c = parseCertificate(pemDecode(theirs, 'CERTIFICATE')[0] as Uint8Array)
    assert.equal(toHex(c.ski as Uint8Array), toHex(keyIdentifier(spkiOf(privateKey))))
  })

  it('issueCertificate makes a chain openssl verify accepts, and our parser reads AKI = issuer SKI', () => {
    const caKey = generateKeyPair('p256').privateKey
    const ca = parseCertificate(buildSelfSignedCertificate({ name: 'ca._device.example.test', key: caKey, ca: true, now: NOW }))
    const leafKey = generateKeyPair('rsa2048').privateKey
    const leaf = issueCertificate({ subjectCN: NAME, subjectKey: leafKey, issuerCert: ca, issuerKey: caKey, now: NOW })
    writeFileSync(path('ca.pem'), pemEncode(ca.der, 'CERTIFICATE'))
    writeFileSync(path('leaf.pem'), pemEncode(leaf.der, 'CERTIFICATE'))
    assert.match(opensslOk(['verify', '-attime', String(NOW / 1000), '-CAfile', path('ca.pem'), path('leaf.pem')]), /leaf\.pem: OK/)
    assert.deepEqual(leaf.aki, ca.ski)
    assert.equal(leaf.issuer, `CN=ca._device.example.test`)
    assert.ok(verifyCertificateSignature(leaf, ca.spkiDer))
    assert.equal(verifyCertificateSignature(leaf, leaf.spkiDer), false)
  })
})

describe('openssl certificates, read by parseCertificate', () => {
  const cases = [
    ['p256', 'ecdsa-with-SHA256'],
    ['ed25519', 'Ed25519'],
    ['rsa', 'sha256WithRSAEncryption'],
  ] as const
  for (const [type, alg] of cases) {
    it(`${type}: fields equal openssl's own view, signature verifies, a flipped bit does not`, () => {
      const certPath = path(`ossl-${type}.pem`)
      opensslOk(
        newKeyRequestArgs('-x509', {
          type,
          key: path(`ossl-${type}.key`),
          out: certPath,
          days: 10,
          subject: `/O=Example/CN=${NAME}`,
          ext: [
            `subjectAltName=DNS:${NAME},DNS:alt.example.test`,
            'basicConstraints=critical,CA:TRUE,pathlen:2',
            'keyUsage=critical,keyCertSign,digitalSignature',
          ],
        }),
      )
      const der = opensslBytes(['x509', '-in', certPath, '-outform', 'DER'])
      const c = parseCertificate(der)
      assert.equal(c.keyType, type)
      assert.equal(c.signatureAlgorithm.name, alg)
      assert.equal(c.subjectCN, NAME)
      assert.equal(c.subject, `O=Example, CN=${NAME}`)
      assert.deepEqual(c.dnsNames, [NAME, 'alt.example.test'])
      assert.deepEqual(c.basicConstraints, { ca: true, pathLen: 2 })
      assert.deepEqual([...(c.keyUsage ?? [])].sort(), ['digitalSignature', 'keyCertSign'])
      assert.equal(
        c.serialHex.replace(/^00/, ''),
        opensslOk(['x509', '-in', certPath, '-noout', '-serial']).trim().slice(7).toLowerCase().replace(/^00/, ''),
      )
      const dates = opensslOk(['x509', '-in', certPath, '-noout', '-startdate', '-enddate'])
      assert.equal(c.notBefore, Date.parse(/notBefore=(.*)/.exec(dates)?.[1] ?? ''))
      assert.equal(c.notAfter, Date.parse(/notAfter=(.*)/.exec(dates)?.[1] ?? ''))
      assert.equal(
        toHex(c.spkiDer),
        toHex(opensslBytes(['pkey', '-pubin', '-outform', 'DER'], opensslOk(['x509', '-in', certPath, '-noout', '-pubkey']))),
      )
      assert.ok(verifyCertificateSignature(c, c.spkiDer))
      const tampered = new Uint8Array(der)
      tampered[tampered.length - 40] = (tampered[tampered.length - 40] as number) ^ 0x01
      // a flipped bit in the signature (or TBS) parses but no longer verifies
      let verdict: boolean
      try {
        verdict = verifyCertificateSignature(parseCertificate(tampered), c.spkiDer)
      } catch (err) {
        assert.ok(isDaneelError(err, 'ERR_CERT_INVALID'))
        verdict = false
      }
      assert.equal(verdict, false)
    })
  }

  it('reads AKI from an openssl-issued leaf', () => {
    opensslOk(selfSignedP256Args({ key: path('ca.key'), cert: path('oca.pem'), days: 5, subject: '/CN=Test CA' }))
    opensslOk(newKeyRequestArgs('-new', { key: path('l.key'), out: path('l.csr'), subject: `/CN=${NAME}` }))
    writeFileSync(path('ext.cnf'), `subjectAltName=DNS:${NAME}\nauthorityKeyIdentifier=keyid\n`)
    opensslOk([
      'x509',
      '-req',
      '-in',
      path('l.csr'),
      '-CA',
      path('oca.pem'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      '-out',
      path('l.pem'),
      '-days',
      '5',
      '-extfile',
      path('ext.cnf'),
    ])
    const ca = parseCertificate(opensslBytes(['x509', '-in', path('oca.pem'), '-outform', 'DER']))
    const leaf = parseCertificate(opensslBytes(['x509', '-in', path('l.pem'), '-outform', 'DER']))
    assert.deepEqual(leaf.aki, ca.ski)
    assert.ok(verifyCertificateSignature(leaf, ca.spkiDer))
    assert.equal(openssl(['verify', '-CAfile', path('oca.pem'), path('l.pem')]).code, 0)
  })
})

describe('bad certificate input is ERR_CERT_INVALID, never a crash', () => {
  const { privateKey } = generateKeyPair('p256')
  const good = buildSelfSignedCertificate({ name: NAME, key: privateKey })
  const bad: [string, Uint8Array][] = [
    ['empty', new Uint8Array()],
    ['garbage', new TextEncoder().encode('this is not DER at all')],
    ['truncated', good.slice(0, good.length - 10)],
    ['trailing bytes', new Uint8Array([...good, 0])],
    ['indefinite length (BER)', new Uint8Array([0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00])],
    ['a bare INTEGER', new Uint8Array([0x02, 0x01, 0x05])],
    // 30 82 LL LL re-encoded as 30 83 00 LL LL: BER allows it, DER (X.690 §10.1) does not
    ['non-minimal length (BER)', new Uint8Array([0x30, 0x83, 0x00, ...good.slice(2)])],
  ]
  for (const [label, der] of bad) {
    it(label, () => {
      assert.throws(
        () => parseCertificate(der),
        (err) => isDaneelError(err, 'ERR_CERT_INVALID'),
      )
    })
  }
  it('every truncation and every single-byte corruption of a certificate fails typed or parses', () => {
    for (let n = 0; n < good.length; n++) {
      assert.throws(
        () => parseCertificate(good.slice(0, n)),
        (err) => isDaneelError(err, 'ERR_CERT_INVALID'),
      )
    }
    for (let i = 0; i < good.length; i++) {
      const m = new Uint8Array(good)
      m[i] = (m[i] as number) ^ 0xff
      try {
        const c = parseCertificate(m)
        assert.equal(typeof c.subject, 'string')
      } catch (err) {
        assert.ok(isDaneelError(err), `byte ${i}: ${String(err)}`)
      }
    }
  })
})
