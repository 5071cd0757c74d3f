/** The original systems' users through the CLI: the workshop's encode.py messages, --profile workshop read by a jwcrypto decoder, RSA->P-256 advice, a root-owned /etc/dane_id volume taken over. */

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { selfSignedP256Args } from '../../testkit/openssl.js'
import { cliPath, makeTempDir, repoPath } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-legacy-cli-')
after(() => tmp.cleanup())

/** The fixture recipient's key, copied into the test's temp dir with mode 0600 (a key readable by others is refused). */
function fixtureKey(name: string): string {
  const path = join(tmp.dir, `${name}.fixture.key.pem`)
  copyFileSync(join(FX, `${name}.key.pem`), path)
  chmodSync(path, 0o600)
  return path
}
const FX = repoPath('test/fixtures/workshop')
const fx = JSON.parse(readFileSync(join(FX, 'messages.json'), 'utf8')) as {
  sender: string
  recipient: string
  messages: { text: string; sealed: string }[]
}

function run(cmd: string, args: string[], opts: { input?: string; env?: Record<string, string>; uid?: number } = {}) {
  const argv =
    opts.uid === undefined ? [cmd, ...args] : ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', cmd, ...args]
  const r = spawnSync(argv[0] as string, argv.slice(1), {
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...opts.env },
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}
const daneel = (args: string[], opts: { input?: string; env?: Record<string, string>; uid?: number } = {}) =>
  run(process.execPath, [cliPath, ...args], opts)
function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
}

describe("the workshop's encode.py messages through `daneel open`", () => {
  const args = ['open', '--cert', join(FX, `${fx.sender}.cert.pem`), '--key', fixtureKey(fx.recipient)]
  const env = { DANE_ID: fx.recipient, TRUSTED_DOMAINS: 'example.test', DANEEL_STATE: join(tmp.dir, 'st') }
  for (const m of fx.messages) {
    it(`opens under LEGACY_DOMAINS, refuses without: ${JSON.stringify(m.text)}`, () => {
      const ok = daneel(args, { input: `${m.sealed}\n`, env: { ...env, LEGACY_DOMAINS: 'workshop._device.example.test' } })
      assert.equal(ok.status, 0, ok.stderr)
      const out = JSON.parse(ok.stdout) as Record<string, unknown>
      assert.deepEqual(
        { from: out.from, payloadText: out.payloadText, profile: out.profile, bound: out.bound },
        { from: fx.sender, payloadText: m.text, profile: 'workshop', bound: false },
      )
      const flag = daneel([...args, '--legacy-domains', 'example.test'], { input: m.sealed, env })
      assert.equal(flag.status, 0, flag.stderr)
      const refused = daneel(args, { input: m.sealed, env })
      assert.equal(refused.status, 1)
      assert.match(refused.stderr, /\[ERR_UNBOUND_REFUSED\]/)
      const elsewhere = daneel(args, { input: m.sealed, env: { ...env, LEGACY_DOMAINS: 'other.test' } })
      assert.equal(elsewhere.status, 1)
    })
  }
})

/*
 * An independent decoder, written for this test with Debian's python3-jwcrypto and following the workshop's
 * decode.py format (base64 -> JSON JWE -> JSON JWS whose x5u is the sender's bare name -> verify with the
 * sender's certificate). The workshop's own decode.py is not in this repository; it was run by hand against a
 * `seal --profile workshop` message when this test was written (see test/fixtures/workshop/README.md).
 */
const DECODER = `
import base64, json, sys
from cryptography import x509
from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS
key = JWK(); key.import_from_pem(open(sys.argv[1], 'rb').read())
jwe = JWE(); jwe.deserialize(base64.b64decode(sys.stdin.read().strip()), key=key)
jws = JWS(); jws.deserialize(jwe.payload.decode())
name = jws.jose_header['x5u']
cert = x509.load_pem_x509_certificate(open(sys.argv[2] + '/' + name + '.cert.pem', 'rb').read())
pub = JWK(); pub.import_from_pyca(cert.public_key())
jws.verify(pub)
print(json.dumps({'from': name, 'jwe': jwe.jose_header, 'jws': jws.jose_header, 'payload': jws.payload.decode()}))
`

function python(): string {
  for (const p of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(p, ['-c', 'import jwcrypto'], { encoding: 'utf8' }).status === 0) return p
  }
  throw new Error('no python3 with jwcrypto: run scripts/install-test-deps.sh (Debian python3-jwcrypto)')
}

describe('seal --profile workshop', () => {
  it('is read by a python3-jwcrypto decoder following decode.py (signature verified with the sender certificate)', () => {
    const S = 'tx.workshop._device.example.test'
    const ids = join(tmp.dir, 'ws-ids')
    mkdirSync(ids, { recursive: true })
    // the sender identity as the workshop's generate_selfsigned_identity.sh makes it
    openssl(['genpkey', '-algorithm', 'RSA', '-out', join(ids, `${S}.key.pem`)])
    openssl([
      'req',
      '-x509',
      '-key',
      join(ids, `${S}.key.pem`),
      '-out',
      join(ids, `${S}.cert.pem`),
      '-days',
      '365',
      '-sha256',
      '-subj',
      `/CN=${S}`,
      '-addext',
      `subjectAltName=DNS:${S}`,
    ])
    const sealed = daneel(['seal', '--to', fx.recipient, '--cert', join(FX, `${fx.recipient}.cert.pem`), '--profile', 'workshop'], {
      input: 'CO2 612 ppm',
      env: { DANE_ID: S, CRYPTO_PATH: ids, DANEEL_STATE: join(tmp.dir, 'st-ws') },
    })
    assert.equal(sealed.status, 0, sealed.stderr)
    const r = run(python(), ['-c', DECODER, fixtureKey(fx.recipient), ids], { input: sealed.stdout })
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout) as { from: string; jwe: Record<string, string>; jws: Record<string, string>; payload: string }
    assert.equal(out.from, S)
    assert.deepEqual(out.jws, { alg: 'RS256', x5u: S })
    assert.deepEqual(out.jwe, { alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512', typ: 'JWE' })
    assert.equal(out.payload, 'CO2 612 ppm')
  })
})

/** An identity as the original identity-manager writes it (idlib/bootstrap.py): PKCS#1 RSA-2048 key, 10-day self-signed certificate, SAN only, both 0600. */
function originalIdentity(dir: string, name: string): void {
  mkdirSync(dir, { recursive: true })
  const key = join(dir, `${name}.key.pem`)
  openssl(['genrsa', '-traditional', '-out', key, '2048'])
  const ext = join(tmp.dir, 'san.ext')
  writeFileSync(ext, `subjectAltName=DNS:${name}\n`)
  const csr = join(tmp.dir, 'orig.csr')
  openssl(['req', '-new', '-key', key, '-subj', `/C=US/ST=CA/L=San Francisco/O=example/CN=${name}`, '-out', csr])
  openssl(['x509', '-req', '-in', csr, '-signkey', key, '-days', '10', '-sha256', '-extfile', ext, '-out', join(dir, `${name}.crt.pem`)])
  chmodSync(key, 0o600)
  chmodSync(join(dir, `${name}.crt.pem`), 0o600)
  assert.match(readFileSync(key, 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----/)
}

describe("the original system's users", () => {
  const NAME = 'c90a0d441683.airquality._device.example.test'

  it('an RSA-2048 identity in the original layout is read; sealing to a P-256 recipient says what to do (exit 2)', () => {
    const dane = join(tmp.dir, 'rsa-orig', 'etc', 'dane_id')
    originalIdentity(dane, NAME)
    const show = daneel(['identity', 'show', '--json'], { env: { DANE_ID: NAME, CRYPTO_PATH: dane } })
    assert.equal(show.status, 0, show.stderr)
    assert.match(show.stdout, /rsa/i)
    const P = 'gw.airquality._device.example.test'
    openssl(
      selfSignedP256Args({
        key: join(tmp.dir, 'p.key'),
        cert: join(tmp.dir, 'p.crt'),
        subject: `/CN=${P}`,
        ext: [`subjectAltName=DNS:${P}`],
      }),
    )
    const r = daneel(['seal', '--to', P, '--cert', join(tmp.dir, 'p.crt'), '--seq', '1'], {
      input: '{"co2":612}',
      env: { DANE_ID: NAME, CRYPTO_PATH: dane },
    })
    assert.equal(r.status, 2, r.stderr)
    assert.match(r.stderr, /\[ERR_KEY_UNSUPPORTED\]|ERR_KEY_UNSUPPORTED/)
    assert.match(r.stderr, /identity create --key-type p256/)
  })

  it('a root-owned /etc/dane_id volume is taken over by scripts/adopt-identity.sh, then read as APP_UID', () => {
    const adopt = repoPath('scripts/adopt-identity.sh')
    const base = join(tmp.dir, 'volume')
    const dane = join(base, 'etc', 'dane_id')
    originalIdentity(dane, NAME)
    if (process.getuid?.() !== 0) {
      // Not root: the takeover cannot happen, and the script says so plainly.
      const r = run('sh', [adopt, dane, '1000'])
      assert.equal(r.status, 2)
      assert.match(r.stderr, /must run as root/)
      return
    }
    for (const d of [tmp.dir, base, join(base, 'etc')]) chmodSync(d, 0o755)
    chmodSync(dane, 0o700)
    assert.equal(statSync(join(dane, `${NAME}.key.pem`)).uid, 0, 'the original layout: owned by root')
    const env = { DANE_ID: NAME, CRYPTO_PATH: dane }
    const before = daneel(['identity', 'show'], { env, uid: 1000 })
    assert.equal(before.status, 2, 'as the app user, a root-owned 0600 key cannot be read')
    assert.match(before.stderr, /EACCES|permission|cannot read/i)
    const r = run('sh', [adopt, dane, '1000'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /key\.pem now 1000:1000 mode 600/)
    const key = statSync(join(dane, `${NAME}.key.pem`))
    assert.deepEqual([key.uid, key.gid, key.mode & 0o777], [1000, 1000, 0o600])
    const cert = statSync(join(dane, `${NAME}.crt.pem`))
    assert.deepEqual([cert.uid, cert.mode & 0o777], [1000, 0o644])
    assert.equal(run('sh', [adopt, dane, '1000']).stdout, '', 'idempotent: nothing left to change')
    const shown = daneel(['identity', 'show', '--json'], { env, uid: 1000 })
    assert.equal(shown.status, 0, shown.stderr)
    assert.match(shown.stdout, new RegExp(NAME.replaceAll('.', '\\.')))
  })
})
