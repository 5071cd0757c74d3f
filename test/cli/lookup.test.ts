/** `daneel lookup` end to end against the Knot lab: exit 0 only for a trusted answer, records parsed, --json. */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { type DnsLab, startDnsLab } from '../../testkit/dns-lab.js'
import { cliPath } from '../../testkit/paths.js'

function daneel(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
      },
    )
  })
}

describe('daneel lookup', () => {
  let lab: DnsLab
  let base: string[]
  before(async () => {
    lab = await startDnsLab()
    base = ['--dns', lab.server, '--trust-anchors', lab.trustAnchorsFile, '--timeout', '5']
  })
  after(async () => {
    await lab?.stop()
  })

  it('secure TLSA: exit 0, each record parsed, the certificate summarised', async () => {
    const r = await daneel(['lookup', 'dev1._device.example.test', ...base])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /dev1\._device\.example\.test\. TLSA: secure \(trusted\)/)
    assert.match(r.stdout, /usage 3 DANE-EE, selector 0 Cert, matching 0 Full/)
    assert.match(r.stdout, /certificate CN=dev1\._device\.example\.test/)
    assert.match(r.stdout, /why: .*signed by example\.test\./)
  })

  it('--json, and the env vars work like the flags (DNS_SERVER, DNSSEC_TRUST_ANCHORS)', async () => {
    const r = await daneel(['lookup', 'dev2._device.rsa.test', '--json'], {
      DNS_SERVER: lab.server,
      DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
    })
    assert.equal(r.code, 0, r.stderr)
    const doc = JSON.parse(r.stdout) as { status: string; transport: string; records: Array<{ usage?: string; data: string }> }
    assert.equal(doc.status, 'secure')
    assert.equal(doc.transport, 'tcp')
    assert.equal(doc.records.length, 2)
    assert.deepEqual(doc.records.map((x) => x.usage).sort(), ['3 DANE-EE', '3 DANE-EE'])
  })

  it('bogus answers exit 1 with the reason', async () => {
    for (const n of ['tampered._device.example.test', 'expired._device.example.test', 'dev1._device.badds.test']) {
      const r = await daneel(['lookup', n, '--json', ...base])
      assert.equal(r.code, 1, n)
      const doc = JSON.parse(r.stdout) as { status: string; reason: string; trusted: boolean }
      assert.equal(doc.status, 'bogus', n)
      assert.equal(doc.trusted, false)
      assert.ok(doc.reason.length > 0)
    }
  })

  it('insecure without a reachable PKIX-CD CA: exit 1; NXDOMAIN secure but no records: exit 1', async () => {
    const ins = await daneel(['lookup', 'dev1._device.insecure.test', '--json', ...base])
    assert.equal(ins.code, 1)
    assert.equal((JSON.parse(ins.stdout) as { status: string }).status, 'insecure')
    const nx = await daneel(['lookup', 'nx._device.example.test', ...base])
    assert.equal(nx.code, 1)
    assert.match(nx.stdout, /NXDOMAIN/)
  })

  it('other types with --type; usage errors exit 2; no server exits 1 with ERR_DNS_TIMEOUT', async () => {
    const a = await daneel(['lookup', 'device.example.test', '--type', 'A', ...base])
    assert.equal(a.code, 0, a.stderr)
    assert.match(a.stdout, /A 127\.0\.0\.1/)
    assert.equal((await daneel(['lookup', ...base])).code, 2)
    assert.equal((await daneel(['lookup', 'x.test', '--type', 'NOPE', ...base])).code, 2)
    assert.equal((await daneel(['lookup', 'x.test', '--dns', 'not-an-ip'])).code, 2)
    assert.equal((await daneel(['lookup', 'x.test', '--dns', '8.8.8.8', '--dnssec', 'resolver'])).code, 2)
    const down = await daneel(['lookup', 'x.test', '--dns', '127.0.0.1:9', '--timeout', '200ms'])
    assert.equal(down.code, 1)
    assert.match(down.stderr, /ERR_DNS_TIMEOUT/)
    assert.equal((await daneel(['lookup', '--help'])).code, 0)
  })
})
