/** The identity store: files and modes per docs/contract.md "Files", idempotence, --force, CSR mode, NO_DNSSEC CA flags, install checks. */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { isDaneelError } from '../../../src/errors.js'
import { createIdentity, identityPaths, installCertificate, loadIdentity } from '../../../src/identity/store.js'
import { buildSelfSignedCertificate, issueCertificate } from '../../../src/x509/build.js'
import { parseCertificate } from '../../../src/x509/cert.js'
import { generateKeyPair, loadPrivateKey, privateKeyToPkcs8Pem } from '../../../src/x509/keys.js'
import { pemDecode, pemEncode } from '../../../src/x509/pem.js'
import { openssl, opensslOk } from '../../../testkit/openssl.js'
import { makeTempDir } from '../../../testkit/paths.js'

const NAME = 'c90a0d441683.airquality._device.example.com'
const tmp = makeTempDir('daneel-store-')
after(() => tmp.cleanup())
let n = 0
const freshDir = (): string => join(tmp.dir, `cp${++n}`)

describe('createIdentity', () => {
  it('writes NAME.key.pem (PKCS#8, 0600) and NAME.crt.pem; both load in openssl and match', () => {
    const cryptoPath = freshDir()
    const res = createIdentity({ cryptoPath, daneId: `${NAME.toUpperCase()}.`, uid: process.getuid?.() })
    assert.equal(res.created, true)
    assert.equal(res.name, NAME)
    const p = identityPaths(cryptoPath, NAME)
    assert.deepEqual(res.paths, p)
    assert.equal(p.key, join(cryptoPath, `${NAME}.key.pem`))
    assert.equal(statSync(p.key).mode & 0o777, 0o600)
    assert.equal(statSync(p.key).uid, process.getuid?.())
    assert.match(readFileSync(p.key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/)
    assert.deepEqual(readdirSync(cryptoPath).sort(), [`${NAME}.crt.pem`, `${NAME}.key.pem`])
    const fromKey = opensslOk(['pkey', '-in', p.key, '-pubout'])
    const fromCert = opensslOk(['x509', '-in', p.cert, '-noout', '-pubkey'])
    assert.equal(fromKey, fromCert)
    assert.equal(res.cert?.basicConstraints?.ca, false)
    assert.equal(res.cert?.notAfter - (res.cert?.notBefore ?? 0), 365 * 86_400_000 + 5 * 60_000)
  })
  it('is idempotent: a second create changes nothing and says so; --force replaces', () => {
    const cryptoPath = freshDir()
    createIdentity({ cryptoPath, daneId: NAME, keyType: 'ed25519' })
    const p = identityPaths(cryptoPath, NAME)
    const before = [readFileSync(p.key, 'utf8'), readFileSync(p.cert, 'utf8'), statSync(p.key).mtimeMs]
    const again = createIdentity({ cryptoPath, daneId: NAME, keyType: 'rsa2048' })
    assert.equal(again.created, false)
    assert.equal(again.keyType, 'ed25519')
    assert.deepEqual([readFileSync(p.key, 'utf8'), readFileSync(p.cert, 'utf8'), statSync(p.key).mtimeMs], before)
    const forced = createIdentity({ cryptoPath, daneId: NAME, keyType: 'rsa2048', force: true })
    assert.equal(forced.created, true)
    assert.notEqual(readFileSync(p.key, 'utf8'), before[0])
    assert.equal(loadIdentity(cryptoPath, NAME).keyType, 'rsa2048')
  })
  it('--csr writes a CSR openssl verifies and no certificate; a later self-signed create removes the stale CSR', () => {
    const cryptoPath = freshDir()
    const res = createIdentity({ cryptoPath, daneId: NAME, csr: true })
    const p = res.paths
    assert.equal(existsSync(p.cert), false)
    const r = openssl(['req', '-in', p.csr, '-verify', '-noout'])
    assert.equal(r.code, 0, r.stderr)
    createIdentity({ cryptoPath, daneId: NAME, force: true })
    assert.equal(existsSync(p.csr), false)
    assert.equal(existsSync(p.cert), true)
  })
  it('NO_DNSSEC: CA:TRUE, pathLen 0, keyCertSign (the self-signed identity anchors its PKIX-CD chain)', () => {
    const res = createIdentity({ cryptoPath: freshDir(), daneId: NAME, noDnssec: true, days: 30 })
    assert.deepEqual(res.cert?.basicConstraints, { ca: true, pathLen: 0 })
    assert.ok(res.cert?.keyUsage?.has('keyCertSign'))
    assert.equal(res.cert?.notAfter - (res.cert?.notBefore ?? 0), 30 * 86_400_000 + 5 * 60_000)
  })
  it('bad input writes nothing: bad name, bad key type, bad days, unwritable CRYPTO_PATH', () => {
    const cryptoPath = freshDir()
    assert.throws(
      () => createIdentity({ cryptoPath, daneId: 'not-an-identity.example.com' }),
      (e) => isDaneelError(e, 'ERR_NAME_INVALID'),
    )
    assert.throws(
      () => createIdentity({ cryptoPath, daneId: NAME, keyType: 'p384' as 'p256' }),
      TypeError, // API misuse: the CLI and the provisioning protocol check the key type before calling
    )
    assert.throws(() => createIdentity({ cryptoPath, daneId: NAME, days: 0 }), RangeError)
    assert.equal(existsSync(cryptoPath), false)
    const file = join(tmp.dir, 'a-file')
    writeFileSync(file, 'x')
    assert.throws(
      () => createIdentity({ cryptoPath: join(file, 'sub'), daneId: NAME }),
      (e) => isDaneelError(e, 'ERR_IO'),
    )
    const ro = freshDir()
    mkdirSync(ro, { mode: 0o500 })
    if (process.getuid?.() !== 0) {
      assert.throws(
        () => createIdentity({ cryptoPath: ro, daneId: NAME }),
        (e) => isDaneelError(e, 'ERR_IO'),
      )
      assert.deepEqual(readdirSync(ro), [])
    }
  })
})

describe('a create interrupted after the key (power cut)', () => {
  it('the next create writes the missing certificate for the existing key, and changes nothing after that', () => {
    const cryptoPath = freshDir()
    const first = createIdentity({ cryptoPath, daneId: NAME })
    const p = first.paths
    const key = readFileSync(p.key, 'utf8')
    rmSync(p.cert)
    const again = createIdentity({ cryptoPath, daneId: NAME })
    assert.equal(again.created, false)
    assert.equal(again.completed, true)
    assert.equal(readFileSync(p.key, 'utf8'), key)
    assert.ok(existsSync(p.cert))
    assert.equal(loadIdentity(cryptoPath, NAME).cert?.subjectCN, NAME)
    const third = createIdentity({ cryptoPath, daneId: NAME })
    assert.equal(third.completed, undefined)
    rmSync(p.cert)
    const csr = createIdentity({ cryptoPath, daneId: NAME, csr: true })
    assert.ok(csr.completed === true && csr.csrDer !== undefined && existsSync(p.csr))
  })
})

describe('a failed write leaves the previous state', () => {
  it('--force whose certificate cannot be written puts the old key back; a first create leaves no key', () => {
    const cryptoPath = freshDir()
    createIdentity({ cryptoPath, daneId: NAME })
    const p = identityPaths(cryptoPath, NAME)
    const oldKey = readFileSync(p.key, 'utf8')
    // a non-empty directory where the certificate goes: the rename onto it fails
    rmSync(p.cert)
    mkdirSync(join(p.cert, 'blocker'), { recursive: true })
    assert.throws(
      () => createIdentity({ cryptoPath, daneId: NAME, force: true }),
      (e) => isDaneelError(e, 'ERR_IO'),
    )
    assert.equal(readFileSync(p.key, 'utf8'), oldKey)
    const fresh = freshDir()
    const q = identityPaths(fresh, NAME)
    mkdirSync(join(q.cert, 'blocker'), { recursive: true })
    assert.throws(
      () => createIdentity({ cryptoPath: fresh, daneId: NAME }),
      (e) => isDaneelError(e, 'ERR_IO'),
    )
    assert.equal(existsSync(q.key), false)
  })
})

describe('loadIdentity and installCertificate', () => {
  it('loads what create wrote; a missing identity is ERR_IDENTITY_MISSING; a swapped certificate is ERR_KEY_MISMATCH', () => {
    const cryptoPath = freshDir()
    assert.throws(
      () => loadIdentity(cryptoPath, NAME),
      (e) => isDaneelError(e, 'ERR_IDENTITY_MISSING'),
    )
    createIdentity({ cryptoPath, daneId: NAME })
    const id = loadIdentity(cryptoPath, NAME)
    assert.equal(id.keyType, 'p256')
    assert.equal(id.cert?.subjectCN, NAME)
    const other = buildSelfSignedCertificate({ name: NAME, key: generateKeyPair('p256').privateKey })
    writeFileSync(id.paths.cert, pemEncode(other, 'CERTIFICATE'))
    assert.throws(
      () => loadIdentity(cryptoPath, NAME),
      (e) => isDaneelError(e, 'ERR_KEY_MISMATCH'),
    )
  })
  it('installs a CA-signed certificate for our key and name, keeping the chain', () => {
    const cryptoPath = freshDir()
    createIdentity({ cryptoPath, daneId: NAME, csr: true })
    const id = loadIdentity(cryptoPath, NAME)
    const caKey = generateKeyPair('p256').privateKey
    const ca = parseCertificate(buildSelfSignedCertificate({ name: 'ca.example.com', key: caKey, ca: true }))
    const leaf = issueCertificate({ subjectCN: NAME, subjectKey: id.privateKey, issuerCert: ca, issuerKey: caKey })
    const res = installCertificate(cryptoPath, NAME, `${pemEncode(leaf.der, 'CERTIFICATE')}${pemEncode(ca.der, 'CERTIFICATE')}`)
    assert.equal(res.replaced, false)
    assert.equal(pemDecode(readFileSync(id.paths.cert, 'utf8'), 'CERTIFICATE').length, 2)
    assert.equal(loadIdentity(cryptoPath, NAME).chain?.length, 2)
  })
  it('refuses another key, another name, or garbage, and leaves the old certificate in place', () => {
    const cryptoPath = freshDir()
    createIdentity({ cryptoPath, daneId: NAME })
    const id = loadIdentity(cryptoPath, NAME)
    const before = readFileSync(id.paths.cert, 'utf8')
    const otherKey = pemEncode(buildSelfSignedCertificate({ name: NAME, key: generateKeyPair('p256').privateKey }), 'CERTIFICATE')
    const otherName = pemEncode(buildSelfSignedCertificate({ name: 'someone._device.example.com', key: id.privateKey }), 'CERTIFICATE')
    assert.throws(
      () => installCertificate(cryptoPath, NAME, otherKey),
      (e) => isDaneelError(e, 'ERR_KEY_MISMATCH'),
    )
    assert.throws(
      () => installCertificate(cryptoPath, NAME, otherName),
      (e) => isDaneelError(e, 'ERR_CERT_NAME_MISMATCH'),
    )
    assert.throws(
      () => installCertificate(cryptoPath, NAME, 'garbage'),
      (e) => isDaneelError(e, 'ERR_CERT_INVALID'),
    )
    assert.throws(
      () => installCertificate(cryptoPath, NAME, before.slice(0, 200)),
      (e) => isDaneelError(e, 'ERR_CERT_INVALID'),
    )
    assert.equal(readFileSync(id.paths.cert, 'utf8'), before)
    assert.equal(loadPrivateKey(readFileSync(id.paths.key, 'utf8')).asymmetricKeyType, 'ec')
    assert.equal(privateKeyToPkcs8Pem(id.privateKey), readFileSync(id.paths.key, 'utf8'))
  })
})
