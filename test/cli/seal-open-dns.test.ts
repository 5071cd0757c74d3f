/** `daneel seal` / `daneel open` without --cert: keys found in DNS (TLSA in the DNSSEC-signed Knot lab), as peers would. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { formatTlsaRdata, makeTlsaRecord } from '../../src/dane/tlsa.js'
import { createIdentity } from '../../src/identity/store.js'
import { type DnsLab, startDnsLab } from '../../testkit/dns-lab.js'
import { cliPath, makeTempDir } from '../../testkit/paths.js'

const TX = 'tx9.airquality._device.example.test'
const RX = 'rx9.gateway._device.example.test'
const UNPUBLISHED = 'ghost.airquality._device.example.test'
const READING = '{"pm25":12.3,"co2":612}'

const tmp = makeTempDir('daneel-seal-dns-')
let lab: DnsLab
let env: Record<string, string>

before(async () => {
  lab = await startDnsLab()
  const cryptoPath = join(tmp.dir, 'crypto')
  for (const name of [TX, RX, UNPUBLISHED]) {
    const { cert } = createIdentity({ cryptoPath, daneId: name, keyType: 'p256' })
    assert.ok(cert !== undefined, 'a self-signed identity carries its certificate')
    if (name === UNPUBLISHED) continue
    // 3 1 0: the key itself, so peers can encrypt to it and verify with it
    await lab.setRecords('example.test.', name.replace(/\.example\.test$/, ''), 'TLSA', [formatTlsaRdata(makeTlsaRecord(cert, 3, 1, 0))])
  }
  env = {
    PATH: process.env.PATH ?? '',
    CI: 'true',
    DNS_SERVER: lab.server,
    DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
    CRYPTO_PATH: cryptoPath,
    DANEEL_STATE: join(tmp.dir, 'state'),
    LOG_LEVEL: 'warn',
  }
})
after(async () => {
  await lab?.stop()
  tmp.cleanup()
})

function daneel(args: string[], input: string, extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { input, encoding: 'utf8', env: { ...env, ...extra } })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('seal and open through DNS', () => {
  it('seals to a name found in validated DNS, and opens by looking the sender up (auth dnssec)', () => {
    const s = daneel(['seal', '--to', RX], READING, { DANE_ID: TX })
    assert.equal(s.status, 0, s.stderr)
    const o = daneel(['open'], s.stdout, { DANE_ID: RX, TRUSTED_DOMAINS: 'example.test' })
    assert.equal(o.status, 0, o.stderr)
    const out = JSON.parse(o.stdout)
    assert.equal(out.from, TX)
    assert.equal(out.auth, 'dnssec')
    assert.equal(out.claims.aud, RX)
    assert.equal(out.reading.pm25, 12.3)
  })

  it('refuses to seal to a name with no TLSA records (exit 1), and to a bogus answer', () => {
    const s = daneel(['seal', '--to', UNPUBLISHED], READING, { DANE_ID: TX })
    assert.equal(s.status, 1, s.stderr)
    assert.match(s.stderr, /ERR_TLSA_NONE/)
    const b = daneel(['seal', '--to', 'tampered._device.example.test'], READING, { DANE_ID: TX })
    assert.equal(b.status, 1, b.stderr)
    assert.match(b.stderr, /ERR_DNSSEC_BOGUS/)
  })

  it('rejects a sender outside TRUSTED_DOMAINS, and one whose published key did not sign', () => {
    const s = daneel(['seal', '--to', RX], READING, { DANE_ID: TX })
    assert.equal(s.status, 0, s.stderr)
    const untrusted = daneel(['open'], s.stdout, { DANE_ID: RX, TRUSTED_DOMAINS: 'example.org' })
    assert.equal(untrusted.status, 1)
    assert.match(untrusted.stderr, /ERR_SENDER_UNTRUSTED/)
    // the unpublished identity signs as itself: its name is trusted but DNS has no key for it
    const g = daneel(['seal', '--to', RX], READING, { DANE_ID: UNPUBLISHED })
    assert.equal(g.status, 0, g.stderr)
    const o = daneel(['open'], g.stdout, { DANE_ID: RX, TRUSTED_DOMAINS: 'example.test' })
    assert.equal(o.status, 1)
    assert.match(o.stderr, /rejected/)
  })
})
