/** `daneel seal` and `daneel open` end to end, offline (--cert), with identities made by openssl in a temp dir. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { selfSignedIdentityArgs } from '../../testkit/openssl.js'
import { cliPath, makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-seal-cli-')
after(() => tmp.cleanup())

const A = 'c90a0d441683.airquality._device.example.com'
const B = 'gateway01.airquality._device.example.com'
const KEY_TYPES = ['p256', 'ed25519', 'rsa'] as const
const file = (type: string, name: string, ext: string) => join(tmp.dir, `${type}.${name}.${ext}`)

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
}

function daneel(args: string[], input: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', CI: 'true', ...env },
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

before(() => {
  for (const type of KEY_TYPES)
    for (const name of [A, B])
      openssl(selfSignedIdentityArgs(type, name, { key: file(type, name, 'key.pem'), cert: file(type, name, 'crt.pem') }))
})

const READING = '{"pm25":12.3,"pm10":20.1,"co2":612,"t":21.4,"rh":40.2,"ts":1764100000}'
/** `daneel seal` from A to B with `type` keys, numbered from a state directory of its own unless `extra` has --seq. */
const seal = (type: string, extra: string[] = [], env: Record<string, string> = {}, input = READING) =>
  daneel(
    [
      'seal',
      '--to',
      B,
      '--cert',
      file(type, B, 'crt.pem'),
      '--key',
      file(type, A, 'key.pem'),
      '--dane-id',
      A,
      '--state',
      join(tmp.dir, `state-${type}`),
      ...extra,
    ],
    input,
    env,
  )
/** Runs a step that must succeed, showing its stderr when it does not. */
function ok(r: { status: number | null; stdout: string; stderr: string }): string {
  assert.equal(r.status, 0, r.stderr)
  return r.stdout
}
const open = (type: string, message: string, extra: string[] = [], env: Record<string, string> = {}) =>
  daneel(['open', '--cert', file(type, A, 'crt.pem'), '--key', file(type, B, 'key.pem'), '--dane-id', B, ...extra], message, env)

describe('daneel seal | daneel open', () => {
  for (const [type, profile] of [
    ['p256', 'compact'],
    ['ed25519', 'compact'],
    ['rsa', 'valimail'],
  ] as const) {
    for (const serialization of ['compact', 'json']) {
      it(`${profile} profile with ${type} keys, ${serialization} serialization`, () => {
        const s = seal(type, ['--serialization', serialization])
        assert.equal(s.status, 0, s.stderr)
        const o = open(type, s.stdout)
        assert.equal(o.status, 0, o.stderr)
        const out = JSON.parse(o.stdout)
        assert.equal(out.from, A)
        assert.equal(out.profile, profile)
        assert.equal(out.serialization, serialization)
        assert.equal(out.auth, 'offline')
        assert.equal(out.claims.aud, B)
        assert.equal(out.reading.pm25, 12.3)
        assert.equal(out.claims.r.pm25, 12.3)
      })
    }
  }
  it('numbers messages from the state directory, so the next seal is not a replay', () => {
    const first = JSON.parse(ok(open('p256', ok(seal('p256', ['--state', join(tmp.dir, 'seq')])))))
    const second = JSON.parse(ok(open('p256', ok(seal('p256', ['--state', join(tmp.dir, 'seq')])))))
    assert.equal(second.claims.seq, first.claims.seq + 1)
  })
  it('bytes that are not a JSON object travel as a payload', () => {
    const o = JSON.parse(ok(open('p256', ok(seal('p256', ['--seq', '5'], {}, 'hello, world')))))
    assert.equal(o.payloadText, 'hello, world')
  })
  it('rejects a tampered message with exit 1 and its code', () => {
    const s = ok(seal('p256')).trim()
    const i = s.length - 30
    const o = open('p256', s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1))
    assert.equal(o.status, 1, o.stderr)
    assert.match(o.stderr, /\[ERR_JWE_DECRYPT\]/)
  })
  it('rejects a sender outside the trusted domains, and one whose certificate names someone else', () => {
    const s = ok(seal('p256'))
    const untrusted = open('p256', s, ['--trusted-domains', 'example.org'])
    assert.equal(untrusted.status, 1)
    assert.match(untrusted.stderr, /\[ERR_SENDER_UNTRUSTED\]/)
    const wrong = daneel(
      [
        'open',
        '--cert',
        file('p256', B, 'crt.pem'),
        '--key',
        file('p256', B, 'key.pem'),
        '--dane-id',
        B,
        '--trusted-domains',
        'example.com',
      ],
      s,
    )
    assert.equal(wrong.status, 1)
    assert.match(wrong.stderr, /\[ERR_JWS_SENDER\]/)
  })
  it('without --cert, open looks senders up in DNS and so needs TRUSTED_DOMAINS (usage error otherwise)', () => {
    const o = daneel(['open', '--dane-id', B, '--key', file('p256', B, 'key.pem')], 'x')
    assert.equal(o.status, 2)
    assert.match(o.stderr, /TRUSTED_DOMAINS/)
  })
  it('refuses a recipient certificate that does not name the recipient', () => {
    const s = daneel(
      ['seal', '--to', B, '--cert', file('p256', A, 'crt.pem'), '--key', file('p256', A, 'key.pem'), '--dane-id', A, '--seq', '1'],
      READING,
    )
    assert.equal(s.status, 2)
    assert.match(s.stderr, /ERR_CERT_NAME_MISMATCH/)
  })
  it('works with the noble provider too (DANEEL_CRYPTO=noble)', () => {
    const noble = { DANEEL_CRYPTO: 'noble' }
    const o = ok(open('p256', ok(seal('p256', ['--seq', '9'], noble)), [], noble))
    assert.equal(JSON.parse(o).claims.seq, 9)
  })
})
