/** `daneel identity create|tlsa|install|show` end to end: node build/cli/main.js, files in a temp CRYPTO_PATH, openssl checks. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { buildSelfSignedCertificate, issueCertificate } from '../../src/x509/build.js'
import { parseCertificate } from '../../src/x509/cert.js'
import { toHex } from '../../src/x509/hex.js'
import { generateKeyPair, loadPrivateKey } from '../../src/x509/keys.js'
import { pemEncode } from '../../src/x509/pem.js'
import { opensslBytes } from '../../testkit/openssl.js'
import { cliPath, makeTempDir } from '../../testkit/paths.js'

const NAME = 'c90a0d441683.airquality._device.example.com'
const tmp = makeTempDir('daneel-idcli-')
after(() => tmp.cleanup())
let n = 0
const freshDir = (): string => join(tmp.dir, `cp${++n}`)

function daneel(args: string[], env: Record<string, string> = {}, input?: string): { code: number; out: string; err: string } {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !['DANE_ID', 'IDENTITY_NAME', 'CRYPTO_PATH', 'NO_DNSSEC', 'APP_UID'].includes(k)),
  )
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    env: { ...clean, CI: 'true', ...env },
    input: input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr }
}

/** Bad input: exit 2, one line on stderr naming the error code, nothing on stdout. */
function assertInputError(r: { code: number; out: string; err: string }, code: string): void {
  assert.equal(r.code, 2, r.err)
  assert.equal(r.out, '')
  assert.equal(r.err.trimEnd().split('\n').length, 1, r.err)
  assert.match(r.err, new RegExp(`\\[${code}\\]`))
}

describe('daneel identity', () => {
  it('create, create again (unchanged), tlsa in every form, show', () => {
    const cp = freshDir()
    const env = { CRYPTO_PATH: cp, DANE_ID: NAME }
    const c1 = daneel(['identity', 'create'], env)
    assert.equal(c1.code, 0, c1.err)
    assert.match(c1.out, /created identity .* \(p256\)/)
    const keyFile = join(cp, `${NAME}.key.pem`)
    const certFile = join(cp, `${NAME}.crt.pem`)
    assert.equal(statSync(keyFile).mode & 0o777, 0o600)
    const keyBefore = readFileSync(keyFile, 'utf8')
    const c2 = daneel(['identity', 'create', '--key-type', 'rsa2048'], env)
    assert.equal(c2.code, 0, c2.err)
    assert.match(c2.out, /already exists .*unchanged/)
    assert.equal(readFileSync(keyFile, 'utf8'), keyBefore)

    const certDer = opensslBytes(['x509', '-in', certFile, '-outform', 'DER'])
    const t = daneel(['identity', 'tlsa'], env)
    assert.equal(t.code, 0, t.err)
    assert.equal(t.out, `${NAME}. 300 IN TLSA 3 0 0 ${toHex(certDer).toUpperCase()}\n`)
    const spkiSha256 = toHex(
      opensslBytes(['dgst', '-sha256', '-binary'], opensslBytes(['pkey', '-in', keyFile, '-pubout', '-outform', 'DER'])),
    ).toUpperCase()
    assert.equal(daneel(['identity', 'tlsa', '--rdata', '--selector', '1', '--matching', '1'], env).out, `3 1 1 ${spkiSha256}\n`)
    assert.equal(
      daneel(['identity', 'tlsa', '--rdata', '--usage', 'DANE-EE', '--selector', 'SPKI', '--matching', 'SHA2-256'], env).out,
      `3 1 1 ${spkiSha256}\n`,
    )
    const j = JSON.parse(daneel(['identity', 'tlsa', '--json', '--selector', '1', '--matching', '1', '--ttl', '300'], env).out) as Record<
      string,
      unknown
    >
    assert.deepEqual([j.name, j.ttl, j.rdata, j.zoneLine], [NAME, 300, `3 1 1 ${spkiSha256}`, `${NAME}. 300 IN TLSA 3 1 1 ${spkiSha256}`])
    // NO_DNSSEC publishes usage 4 (PKIX-CD)
    assert.match(daneel(['identity', 'tlsa', '--rdata'], { ...env, NO_DNSSEC: '1' }).out, /^4 0 0 /)

    // --verify: an RRset as dig prints it (hex in groups), whole-RRset matching, exit 0 / 1
    const digStyle = `3 1 1 ${spkiSha256.slice(0, 56)} ${spkiSha256.slice(56)}`
    const v = daneel(['identity', 'tlsa', '--verify', `3 1 1 ${'AB'.repeat(32)}`, '--verify', digStyle], env)
    assert.equal(v.code, 0, v.err)
    assert.match(v.out, /^match: 3 1 1 \(DANE-EE SPKI SHA2-256\)/)
    const nv = daneel(['identity', 'tlsa', '--verify', `3 1 1 ${'AB'.repeat(32)}`, '--json'], env)
    assert.equal(nv.code, 1)
    assert.equal((JSON.parse(nv.out) as { match: boolean }).match, false)

    const s = daneel(['identity', 'show'], env)
    assert.equal(s.code, 0, s.err)
    assert.match(s.out, /key: +p256/)
    assert.doesNotMatch(s.out, /PRIVATE/)
    assert.match(s.out, /TLSA to publish:\n +\S+ 300 IN TLSA 3 0 0 /)
    assert.match(
      s.out,
      /digest only \(3 1 1\), not enough on its own:\n +\S+ 300 IN TLSA 3 1 1 [0-9A-F]+\n +usable for verifying our signatures, but not for peers that must encrypt to us/,
    )
    const sj = JSON.parse(daneel(['identity', 'show', '--json'], env).out) as {
      cert: { dnsNames: string[]; ca: boolean }
      tlsa: string[]
      tlsaDigestOnly: { record: string; note: string }
    }
    assert.deepEqual(sj.cert.dnsNames, [NAME])
    assert.equal(sj.cert.ca, false)
    assert.equal(sj.tlsa.length, 1)
    assert.match(sj.tlsaDigestOnly.record, / 3 1 1 /)
  })

  it('NO_DNSSEC: a CA:TRUE identity, usage 4 records and the PKIX-CD CA URL in show', () => {
    const cp = freshDir()
    const env = { CRYPTO_PATH: cp, DANE_ID: NAME, NO_DNSSEC: 'true' }
    const c = daneel(['identity', 'create'], env)
    assert.equal(c.code, 0, c.err)
    assert.match(c.out, /CA:TRUE pathLen 0/)
    assert.match(c.out, /and serve .*\.crt\.pem at https:\/\/device\.example\.com\/\.well-known\/ca\/[0-9a-f]{2}(-[0-9a-f]{2}){19}\.pem\n/)
    const s = daneel(['identity', 'show'], env)
    assert.equal(s.code, 0, s.err)
    assert.match(s.out, /CA +TRUE, pathLen 0/)
    assert.match(s.out, /IN TLSA 4 0 0 /)
    assert.match(s.out, /IN TLSA 4 1 1 /)
    const aki = JSON.parse(daneel(['identity', 'show', '--json'], env).out) as { cert: { aki: string }; pkixCdCaUrl: string }
    assert.equal(aki.pkixCdCaUrl, `https://device.example.com/.well-known/ca/${aki.cert.aki.replace(/:/g, '-')}.pem`)
    // a CSR-only identity shows that a certificate is still missing
    const cp2 = freshDir()
    assert.equal(daneel(['identity', 'create', '--csr'], { CRYPTO_PATH: cp2, DANE_ID: NAME }).code, 0)
    const shown = daneel(['identity', 'show'], { CRYPTO_PATH: cp2, DANE_ID: NAME })
    assert.match(shown.out, /certificate: none yet \(CSR waiting/, shown.err)
  })

  it('--key-type ed25519 --days 10 --force --json, flags instead of env', () => {
    const cp = freshDir()
    daneel(['identity', 'create', '--crypto-path', cp, '--dane-id', NAME])
    const r = daneel([
      'identity',
      'create',
      '--crypto-path',
      cp,
      '--dane-id',
      NAME,
      '--key-type',
      'ed25519',
      '--days',
      '10',
      '--force',
      '--json',
    ])
    assert.equal(r.code, 0, r.err)
    const j = JSON.parse(r.out) as { created: boolean; keyType: string; tlsa: string }
    assert.equal(j.created, true)
    assert.equal(j.keyType, 'ed25519')
    const cert = parseCertificate(opensslBytes(['x509', '-in', join(cp, `${NAME}.crt.pem`), '-outform', 'DER']))
    assert.equal(cert.keyType, 'ed25519')
    assert.equal(Math.round((cert.notAfter - cert.notBefore) / 86_400_000), 10)
  })

  it('--csr, then install the CA-signed certificate', () => {
    const cp = freshDir()
    const env = { CRYPTO_PATH: cp, DANE_ID: NAME }
    const r = daneel(['identity', 'create', '--csr'], env)
    assert.equal(r.code, 0, r.err)
    assert.ok(existsSync(join(cp, `${NAME}.csr.pem`)))
    assert.equal(existsSync(join(cp, `${NAME}.crt.pem`)), false)
    // no certificate yet: tlsa says so (identity missing its certificate is an input problem)
    assertInputError(daneel(['identity', 'tlsa'], env), 'ERR_IDENTITY_MISSING')
    const key = loadPrivateKey(readFileSync(join(cp, `${NAME}.key.pem`), 'utf8'))
    const caKey = generateKeyPair('p256').privateKey
    const ca = parseCertificate(buildSelfSignedCertificate({ name: 'ca.example.com', key: caKey, ca: true }))
    const leaf = issueCertificate({ subjectCN: NAME, subjectKey: key, issuerCert: ca, issuerKey: caKey })
    const f = join(tmp.dir, `leaf${n}.pem`)
    writeFileSync(f, pemEncode(leaf.der, 'CERTIFICATE'))
    const i = daneel(['identity', 'install', f], env)
    assert.equal(i.code, 0, i.err)
    assert.match(i.out, /installed certificate/)
    assert.equal(daneel(['identity', 'tlsa', '--rdata'], env).out, `3 0 0 ${toHex(leaf.der).toUpperCase()}\n`)
    // install from stdin
    assert.equal(daneel(['identity', 'install', '-'], env, pemEncode(leaf.der, 'CERTIFICATE')).code, 0)
  })

  describe('bad input: exit 2, one line, nothing written', () => {
    const cp = freshDir()
    const env = { CRYPTO_PATH: cp, DANE_ID: NAME }
    const write = (name: string, text: string): string => {
      const f = join(tmp.dir, name)
      writeFileSync(f, text)
      return f
    }
    it('setup', () => {
      assert.equal(daneel(['identity', 'create'], env).code, 0)
    })
    const snapshot = (): string =>
      readdirSync(cp)
        .sort()
        .map((f) => `${f}:${readFileSync(join(cp, f), 'utf8')}`)
        .join('|')
    it('install: truncated PEM, garbage DER, a certificate for another name, for another key', () => {
      const before = snapshot()
      const good = readFileSync(join(cp, `${NAME}.crt.pem`), 'utf8')
      assertInputError(daneel(['identity', 'install', write('trunc.pem', good.slice(0, 300))], env), 'ERR_CERT_INVALID')
      assertInputError(
        daneel(
          ['identity', 'install', write('garbage.pem', '-----BEGIN CERTIFICATE-----\nMIIBkjCCAT==\n-----END CERTIFICATE-----\n')],
          env,
        ),
        'ERR_CERT_INVALID',
      )
      const key = loadPrivateKey(readFileSync(join(cp, `${NAME}.key.pem`), 'utf8'))
      const otherName = pemEncode(buildSelfSignedCertificate({ name: 'other._device.example.com', key }), 'CERTIFICATE')
      assertInputError(daneel(['identity', 'install', write('other-name.pem', otherName)], env), 'ERR_CERT_NAME_MISMATCH')
      const otherKey = pemEncode(buildSelfSignedCertificate({ name: NAME, key: generateKeyPair('p256').privateKey }), 'CERTIFICATE')
      assertInputError(daneel(['identity', 'install', write('other-key.pem', otherKey)], env), 'ERR_KEY_MISMATCH')
      assertInputError(daneel(['identity', 'install', join(tmp.dir, 'does-not-exist.pem')], env), 'ERR_IO')
      assert.equal(snapshot(), before)
    })
    it('tlsa: an unknown usage, selector or matching type', () => {
      assertInputError(daneel(['identity', 'tlsa', '--usage', '5'], env), 'ERR_TLSA_UNSUPPORTED')
      assertInputError(daneel(['identity', 'tlsa', '--selector', '2'], env), 'ERR_TLSA_UNSUPPORTED')
      assertInputError(daneel(['identity', 'tlsa', '--matching', '7'], env), 'ERR_TLSA_UNSUPPORTED')
      assertInputError(daneel(['identity', 'tlsa', '--cert', write('odd.pem', 'not a certificate')], env), 'ERR_CERT_INVALID')
    })
    it('tlsa --verify: odd-length hex, an unknown usage, no record', () => {
      assertInputError(daneel(['identity', 'tlsa', '--verify', '3 1 1 ABC'], env), 'ERR_HEX_INVALID')
      assertInputError(daneel(['identity', 'tlsa', '--verify', `6 1 1 ${'00'.repeat(32)}`], env), 'ERR_TLSA_UNSUPPORTED')
      assertInputError(daneel(['identity', 'tlsa', '--verify', '3 1 1'], env), 'ERR_TLSA_INVALID')
    })
    it('create: unwritable CRYPTO_PATH, a bad name, a bad key type; nothing written', () => {
      const file = write('plain-file', 'x')
      assertInputError(daneel(['identity', 'create'], { CRYPTO_PATH: join(file, 'crypto'), DANE_ID: NAME }), 'ERR_IO')
      const cp2 = freshDir()
      assertInputError(daneel(['identity', 'create'], { CRYPTO_PATH: cp2, DANE_ID: 'no-underscore.example.com' }), 'ERR_NAME_INVALID')
      assertInputError(daneel(['identity', 'create', '--key-type', 'dsa'], { CRYPTO_PATH: cp2, DANE_ID: NAME }), 'ERR_USAGE')
      assertInputError(daneel(['identity', 'create', '--days', 'ten'], { CRYPTO_PATH: cp2, DANE_ID: NAME }), 'ERR_USAGE')
      assertInputError(daneel(['identity', 'create', '--days', '0'], { CRYPTO_PATH: cp2, DANE_ID: NAME }), 'ERR_USAGE')
      assertInputError(daneel(['identity', 'create', '--days', '36501'], { CRYPTO_PATH: cp2, DANE_ID: NAME }), 'ERR_USAGE')
      assertInputError(daneel(['identity', 'create'], { CRYPTO_PATH: cp2 }), 'ERR_USAGE')
      assert.equal(existsSync(cp2), false)
    })
    it('show without an identity; an unknown subcommand', () => {
      assertInputError(daneel(['identity', 'show'], { CRYPTO_PATH: freshDir(), DANE_ID: NAME }), 'ERR_IDENTITY_MISSING')
      assertInputError(daneel(['identity', 'frobnicate'], env), 'ERR_USAGE')
    })
  })

  it('--help on the group and on each subcommand exits 0', () => {
    for (const args of [
      ['identity', '--help'],
      ['identity', 'create', '--help'],
      ['identity', 'tlsa', '--help'],
      ['identity', 'install', '--help'],
      ['identity', 'show', '--help'],
    ]) {
      const r = daneel(args)
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`)
      assert.match(r.out, /Usage: daneel identity/)
    }
  })
})
