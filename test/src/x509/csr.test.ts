/** CSRs: openssl req -verify accepts ours and shows the requested SAN; we read openssl's; tampering is detected. */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { buildCsr, parseCsr } from '../../../src/x509/csr.js'
import { toHex } from '../../../src/x509/hex.js'
import { generateKeyPair, spkiOf } from '../../../src/x509/keys.js'
import { pemDecode, pemEncode } from '../../../src/x509/pem.js'
import { throwsCode } from '../../../testkit/assert-code.js'
import { newKeyRequestArgs, openssl, opensslOk } from '../../../testkit/openssl.js'
import { makeTempDir } from '../../../testkit/paths.js'

const NAME = 'c90a0d441683.airquality._device.example.com'
const tmp = makeTempDir('daneel-csr-')
after(() => tmp.cleanup())

describe('PKCS#10 CSRs', () => {
  for (const type of ['p256', 'ed25519', 'rsa2048'] as const) {
    it(`${type}: openssl req -verify accepts ours; subject and requested SAN are ours`, () => {
      const { privateKey } = generateKeyPair(type)
      const der = buildCsr({ name: NAME, key: privateKey, ca: type === 'ed25519' })
      const f = join(tmp.dir, `${type}.csr`)
      writeFileSync(f, pemEncode(der, 'CERTIFICATE REQUEST'))
      const r = openssl(['req', '-in', f, '-verify', '-noout', '-text'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stderr + r.stdout, /verify OK/)
      assert.match(r.stdout, new RegExp(`Subject: CN\\s?=\\s?${NAME.replace(/\./g, '\\.')}`))
      assert.match(r.stdout, new RegExp(`Requested Extensions:[\\s\\S]*DNS:${NAME.replace(/\./g, '\\.')}`))
      assert.match(r.stdout, type === 'ed25519' ? /CA:TRUE, pathlen:0/ : /CA:FALSE/)
      const parsed = parseCsr(der)
      assert.equal(parsed.signatureValid, true)
      assert.equal(parsed.subjectCN, NAME)
      assert.deepEqual(parsed.dnsNames, [NAME])
      assert.equal(toHex(parsed.spkiDer), toHex(spkiOf(privateKey)))
    })
  }
  it('reads a CSR openssl made, and a tampered one does not verify', () => {
    const f = join(tmp.dir, 'o.csr')
    opensslOk(
      newKeyRequestArgs('-new', { key: join(tmp.dir, 'o.key'), out: f, subject: `/CN=${NAME}`, ext: [`subjectAltName=DNS:${NAME}`] }),
    )
    const der = pemDecode(opensslOk(['req', '-in', f]), 'CERTIFICATE REQUEST')[0] as Uint8Array
    const c = parseCsr(der)
    assert.equal(c.signatureValid, true)
    assert.deepEqual(c.dnsNames, [NAME])
    const t = new Uint8Array(der)
    const at = t.indexOf(0x0c) + 5 // inside the subject's UTF8String
    t[at] = (t[at] as number) ^ 0x20
    assert.equal(parseCsr(t).signatureValid, false)
    throwsCode(() => parseCsr(der.slice(0, 50)), 'ERR_CSR_INVALID')
  })
})
