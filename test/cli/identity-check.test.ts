/** `daneel identity check` against the Knot lab: unpublished, different, digest only, matching, bogus, NO_DNSSEC advice, --wait. */

import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { formatTlsaRdata, formatTlsaZoneLine, makeTlsaRecord } from '../../src/dane/tlsa.js'
import { DIGEST_ONLY_NOTE } from '../../src/identity/present.js'
import { createIdentity } from '../../src/identity/store.js'
import type { Certificate } from '../../src/x509/cert.js'
import { toHex } from '../../src/x509/hex.js'
import { type DnsLab, LAB_NEGATIVE_TTL, startDnsLab } from '../../testkit/dns-lab.js'
import { cliPath, makeTempDir } from '../../testkit/paths.js'

const NAME = 'dev9.airquality._device.example.test'
const OWNER = 'dev9.airquality._device'

describe('daneel identity check (Knot lab)', () => {
  const tmp = makeTempDir('daneel-idcheck-')
  const crypto = join(tmp.dir, 'crypto')
  let lab: DnsLab
  let cert: Certificate
  let other: Certificate
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    DNS_SERVER: lab.server,
    DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
    CRYPTO_PATH: crypto,
    DANE_ID: NAME,
    ...extra,
  })
  const check = (args: string[] = [], extra: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [cliPath, 'identity', 'check', ...args], { env: env(extra), timeout: 60_000 }, (e, out, err) =>
        resolve({ code: e === null ? 0 : Number(e.code), out, err }),
      )
    })

  before(async () => {
    lab = await startDnsLab()
    const ours = createIdentity({ cryptoPath: crypto, daneId: NAME }).cert
    const theirs = createIdentity({ cryptoPath: join(tmp.dir, 'other'), daneId: NAME }).cert
    assert.ok(ours !== undefined && theirs !== undefined, 'self-signed identities carry their certificate')
    cert = ours
    other = theirs
    createIdentity({ cryptoPath: crypto, daneId: 'tampered._device.example.test' })
    createIdentity({ cryptoPath: join(tmp.dir, 'nodnssec'), daneId: NAME, noDnssec: true })
  })
  after(async () => {
    await lab?.stop()
    tmp.cleanup()
  })

  test('unpublished: exit 1, says what to publish (the exact zone-file line)', async () => {
    const r = await check()
    assert.equal(r.code, 1, r.err)
    assert.match(r.out, /no TLSA record is published \(secure\)\. Publish:/)
    assert.ok(r.out.includes(formatTlsaZoneLine(NAME, makeTlsaRecord(cert, 3, 0, 0), 300)), r.out)
  })

  test('published but different: exit 1, says so', async () => {
    await lab.setRecords('example.test.', OWNER, 'TLSA', [formatTlsaRdata(makeTlsaRecord(other, 3, 0, 0))])
    const r = await check()
    assert.equal(r.code, 1)
    assert.match(r.out, /published but different: 1 TLSA record\(s\), none matches the local certificate/)
    assert.ok(r.out.includes(formatTlsaZoneLine(NAME, makeTlsaRecord(cert, 3, 0, 0), 300)))
    const j = await check(['--json'])
    assert.equal(JSON.parse(j.out).state, 'different')
  })

  test('a matching digest only (3 1 1): exit 1, peers need the key', async () => {
    await lab.setRecords('example.test.', OWNER, 'TLSA', [formatTlsaRdata(makeTlsaRecord(cert, 3, 1, 1))])
    const r = await check()
    assert.equal(r.code, 1)
    assert.ok(r.out.includes(`digest matches: ${DIGEST_ONLY_NOTE}`), r.out)
    const j = JSON.parse((await check(['--json'])).out)
    assert.equal(j.ok, false)
    assert.equal(j.state, 'digest-only')
    assert.doesNotMatch(j.summary, /matching/)
    assert.ok(j.summary.includes(DIGEST_ONLY_NOTE), j.summary)
    const show = JSON.parse(
      await new Promise<string>((resolve) =>
        execFile(process.execPath, [cliPath, 'identity', 'show', '--json'], { env: env() }, (_e, out) => resolve(out)),
      ),
    )
    assert.equal(show.tlsaDigestOnly.note, DIGEST_ONLY_NOTE, 'show and check say the same of 3 1 1')
  })

  test('matching: exit 0', async () => {
    await lab.setRecords('example.test.', OWNER, 'TLSA', [
      formatTlsaRdata(makeTlsaRecord(cert, 3, 0, 0)),
      formatTlsaRdata(makeTlsaRecord(cert, 3, 1, 1)),
    ])
    const r = await check()
    assert.equal(r.code, 0, r.out + r.err)
    assert.match(r.out, /published, DNSSEC secure and matching the local certificate/)
  })

  test('DNSSEC bogus: exit 1, nothing to change locally', async () => {
    const r = await check([], { DANE_ID: 'tampered._device.example.test' })
    assert.equal(r.code, 1, r.out + r.err)
    assert.match(r.out, /DNSSEC bogus/)
  })

  test('NO_DNSSEC: also the PKIX-CD URL and which certificate to serve there', async () => {
    const r = await check([], { CRYPTO_PATH: join(tmp.dir, 'nodnssec'), NO_DNSSEC: '1', DANE_ID: 'nothere._device.example.test' }).catch(
      (e) => e,
    )
    // a name without an identity is an input error
    assert.equal(r.code, 2)
    await lab.removeRecords('example.test.', OWNER, 'TLSA')
    const n = await check([], { CRYPTO_PATH: join(tmp.dir, 'nodnssec'), NO_DNSSEC: '1' })
    assert.equal(n.code, 1)
    assert.match(n.out, new RegExp(`${NAME.replaceAll('.', '\\.')}\\. 300 IN TLSA 4 0 0 [0-9A-F]+`))
    assert.match(
      n.out,
      /PKIX-CD: serve the issuing CA certificate \(PEM, key id ([0-9a-f]{2}-)+[0-9a-f]{2}\) at https:\/\/device\.example\.test\/\.well-known\/ca\/([0-9a-f]{2}-)+[0-9a-f]{2}\.pem/,
    )
    assert.match(n.out, /self-issued: serve its own certificate/)
  })

  test('--wait returns (exit 0) once the record is added, waiting the negative TTL between looks', async () => {
    await lab.removeRecords('example.test.', OWNER, 'TLSA')
    const child = spawn(process.execPath, [cliPath, 'identity', 'check', '--wait', '--timeout', '60'], {
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => (out += b))
    const sawWait = new Promise<void>((resolve) =>
      child.stderr.on('data', (b: Buffer) => {
        err += b
        if (/waiting/.test(err)) resolve()
      }),
    )
    const exited = new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)))
    try {
      const first = await Promise.race([
        sawWait.then(() => 'waiting'),
        exited.then((c) => `exited ${c}`),
        new Promise((r) => setTimeout(r, 30_000, 'timeout')),
      ])
      assert.equal(first, 'waiting', out + err)
      assert.match(out, /no TLSA record is published/)
      assert.match(err, new RegExp(`waiting [1-${LAB_NEGATIVE_TTL}] s`))
      await lab.setRecords('example.test.', OWNER, 'TLSA', [formatTlsaRdata(makeTlsaRecord(cert, 3, 0, 0))])
      const t0 = Date.now()
      const code = await exited
      assert.equal(code, 0, out + err)
      assert.ok(Date.now() - t0 < (LAB_NEGATIVE_TTL + 5) * 1000)
      assert.match(out, /matching the local certificate/)
      assert.equal(out.match(/no TLSA record is published/g)?.length, 1, 'the complaint is printed once while waiting')
    } finally {
      if (child.exitCode === null) child.kill()
    }
  })

  test('the key id printed is the certificate AKI', () => {
    assert.ok(cert.aki !== undefined, 'our certificates carry an AKI')
    assert.equal(toHex(cert.aki, '-').length, 59)
  })
})
