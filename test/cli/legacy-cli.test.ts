/** The original systems' users through the CLI: the workshop's encode.py messages, --profile workshop read by its decode.py, RSA->P-256 advice, a root-owned /etc/dane_id volume taken over. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { selfSignedP256Args } from '../../testkit/openssl.js'
import { cliPath, makeTempDir, repoPath } from '../../testkit/paths.js'
import { makeWorkshopFixture, workshopDecode, workshopIdentity } from '../../testkit/workshop.js'

const tmp = makeTempDir('daneel-legacy-cli-')
after(() => tmp.cleanup())
// the workshop's identities (its identity script) and encode.py's messages, made now in the temp dir
const fx = makeWorkshopFixture(join(tmp.dir, 'workshop'))

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
  const args = ['open', '--cert', fx.cert(fx.sender), '--key', fx.key(fx.recipient)]
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

describe('seal --profile workshop', () => {
  it("is read by the workshop's own decode.py (signature verified with the sender certificate in IDENTITY_DIR)", () => {
    const S = 'tx.workshop._device.example.test'
    workshopIdentity(fx.dir, S) // the sender as the workshop's generate_selfsigned_identity.sh makes it
    const sealed = daneel(['seal', '--to', fx.recipient, '--cert', fx.cert(fx.recipient), '--profile', 'workshop'], {
      input: 'CO2 612 ppm',
      env: { DANE_ID: S, CRYPTO_PATH: fx.dir, DANEEL_STATE: join(tmp.dir, 'st-ws') },
    })
    assert.equal(sealed.status, 0, sealed.stderr)
    const r = workshopDecode(fx.dir, fx.recipient, sealed.stdout.trim())
    assert.equal(r.status, 0, r.stderr + r.stdout)
    assert.equal(r.stdout, `${S} sent a message: b'CO2 612 ppm'\n`)
    // and a tampered message is not: decode.py fails on the JWE's authentication tag
    const bad = Buffer.from(sealed.stdout.trim(), 'base64')
      .toString('latin1')
      .replace(/"tag":"(.)/, (_, c) => `"tag":"${c === 'A' ? 'B' : 'A'}`)
    assert.notEqual(workshopDecode(fx.dir, fx.recipient, Buffer.from(bad, 'latin1').toString('base64')).status, 0)
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
