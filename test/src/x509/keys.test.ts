/** Keys: ours load in openssl; openssl's PKCS#8, PKCS#1 (RSA) and SEC1 (EC) load in ours; bad keys are typed errors. */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { isDaneelError } from '../../../src/errors.js'
import { buildSelfSignedCertificate } from '../../../src/x509/build.js'
import { parseCertificate } from '../../../src/x509/cert.js'
import { toHex } from '../../../src/x509/hex.js'
import {
  generateKeyPair,
  keyMatchesCertificate,
  keyTypeOptionOf,
  loadPrivateKey,
  privateKeyToPkcs8Pem,
  spkiOf,
} from '../../../src/x509/keys.js'
import { openssl, opensslBytes, opensslOk } from '../../../testkit/openssl.js'
import { makeTempDir } from '../../../testkit/paths.js'

const tmp = makeTempDir('daneel-keys-')
after(() => tmp.cleanup())
const path = (f: string): string => join(tmp.dir, f)

describe('keys we write load in openssl pkey', () => {
  for (const [type, text] of [
    ['p256', /ASN1 OID: prime256v1/],
    ['ed25519', /ED25519 Private-Key/],
    ['rsa2048', /Private-Key: \(2048 bit/],
  ] as const) {
    it(type, () => {
      const { privateKey } = generateKeyPair(type)
      const pem = privateKeyToPkcs8Pem(privateKey)
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/)
      writeFileSync(path(`${type}.pem`), pem, { mode: 0o600 })
      assert.match(opensslOk(['pkey', '-in', path(`${type}.pem`), '-noout', '-text']), text)
      // the public half openssl derives is the SPKI we publish
      assert.equal(toHex(opensslBytes(['pkey', '-in', path(`${type}.pem`), '-pubout', '-outform', 'DER'])), toHex(spkiOf(privateKey)))
      assert.equal(keyTypeOptionOf(loadPrivateKey(pem)), type)
    })
  }
})

describe('keys openssl writes load in ours', () => {
  const check = (file: string, type: string): void => {
    const key = loadPrivateKey(readFileSync(path(file), 'utf8'))
    assert.equal(keyTypeOptionOf(key), type)
    assert.equal(toHex(spkiOf(key)), toHex(opensslBytes(['pkey', '-in', path(file), '-pubout', '-outform', 'DER'])))
  }
  it('PKCS#8 (genpkey): P-256, Ed25519, RSA', () => {
    opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path('ec8.pem')])
    opensslOk(['genpkey', '-algorithm', 'ED25519', '-out', path('ed8.pem')])
    opensslOk(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path('rsa8.pem')])
    assert.match(readFileSync(path('ec8.pem'), 'utf8'), /BEGIN PRIVATE KEY/)
    check('ec8.pem', 'p256')
    check('ed8.pem', 'ed25519')
    check('rsa8.pem', 'rsa2048')
  })
  it('PKCS#1 RSA ("RSA PRIVATE KEY")', () => {
    opensslOk(['pkey', '-in', path('rsa8.pem'), '-traditional', '-out', path('rsa1.pem')])
    assert.match(readFileSync(path('rsa1.pem'), 'utf8'), /BEGIN RSA PRIVATE KEY/)
    check('rsa1.pem', 'rsa2048')
  })
  it('SEC1 EC ("EC PRIVATE KEY"), with and without the EC PARAMETERS block ecparam writes', () => {
    opensslOk(['ecparam', '-name', 'prime256v1', '-genkey', '-out', path('sec1p.pem')])
    assert.match(readFileSync(path('sec1p.pem'), 'utf8'), /BEGIN EC PARAMETERS[\s\S]*BEGIN EC PRIVATE KEY/)
    check('sec1p.pem', 'p256')
    opensslOk(['ec', '-in', path('ec8.pem'), '-out', path('sec1.pem')])
    assert.match(readFileSync(path('sec1.pem'), 'utf8'), /^-----BEGIN EC PRIVATE KEY/)
    check('sec1.pem', 'p256')
  })
})

describe('bad keys', () => {
  it('an encrypted key is ERR_KEY_UNSUPPORTED', () => {
    opensslOk(['genpkey', '-algorithm', 'ED25519', '-aes256', '-pass', 'pass:secret', '-out', path('enc.pem')])
    assert.throws(
      () => loadPrivateKey(readFileSync(path('enc.pem'), 'utf8')),
      (e) => isDaneelError(e, 'ERR_KEY_UNSUPPORTED'),
    )
  })
  it('P-384 and RSA-1024 are ERR_KEY_UNSUPPORTED', () => {
    opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', path('p384.pem')])
    assert.throws(
      () => loadPrivateKey(readFileSync(path('p384.pem'), 'utf8')),
      (e) => isDaneelError(e, 'ERR_KEY_UNSUPPORTED'),
    )
    opensslOk(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', path('rsa1024.pem')])
    assert.throws(
      () => loadPrivateKey(readFileSync(path('rsa1024.pem'), 'utf8')),
      (e) => isDaneelError(e, 'ERR_KEY_UNSUPPORTED'),
    )
  })
  it('garbage, truncated and certificate-only input are ERR_KEY_INVALID', () => {
    const pem = privateKeyToPkcs8Pem(generateKeyPair('p256').privateKey)
    for (const bad of [
      '',
      'hello',
      pem.slice(0, 60),
      pem.replace(/\n[A-Za-z0-9+/]{10}/, '\n'),
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      pem.replace('PRIVATE KEY', 'RSA PRIVATE KEY').replace('END PRIVATE KEY', 'END RSA PRIVATE KEY'),
    ]) {
      assert.throws(
        () => loadPrivateKey(bad),
        (e) => isDaneelError(e, 'ERR_KEY_INVALID'),
        JSON.stringify(bad.slice(0, 40)),
      )
    }
  })
  it('keyMatchesCertificate tells our key from another', () => {
    const a = generateKeyPair('p256').privateKey
    const b = generateKeyPair('p256').privateKey
    const cert = parseCertificate(buildSelfSignedCertificate({ name: 'x._device.example.test', key: a }))
    assert.equal(keyMatchesCertificate(a, cert), true)
    assert.equal(keyMatchesCertificate(b, cert), false)
    assert.equal(openssl(['version']).code, 0)
  })
})
