/** `daneel monitor` against openssl s_server and a Node SMTP STARTTLS peer, with the Knot lab; OpenSSL's DANE verdict as the oracle. */

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { formatTlsaRdata, makeTlsaRecord } from '../../src/dane/tlsa.js'
import { createIdentity } from '../../src/identity/store.js'
import { type DnsLab, startDnsLab } from '../../testkit/dns-lab.js'
import { issueServiceCerts, type TestCert } from '../../testkit/https-ca.js'
import { cliPath, makeTempDir } from '../../testkit/paths.js'
import { opensslDaneVerdict, type Peer, startOpensslServer, startSmtpStarttls } from '../../testkit/tls-peers.js'

const HOST = 'mx.example.test'

interface Run {
  code: number
  json: { overall: string; checks: Array<{ id: string; level: string; summary: string; data: Record<string, unknown> }> }
  stdout: string
  stderr: string
}

/** The first check a monitor run reports (each run here watches one thing). */
function firstCheck(run: Run): Run['json']['checks'][number] {
  const check = run.json.checks[0]
  assert.ok(check !== undefined, `monitor reported no check: ${run.stdout}`)
  return check
}

describe('daneel monitor with the Knot lab and live TLS/SMTP peers', () => {
  const tmp = makeTempDir('daneel-monitor-lab-')
  let lab: DnsLab
  let cur: TestCert
  let next: TestCert
  let other: TestCert
  let soon: TestCert
  let tlsPeer: Peer
  let soonPeer: Peer
  let smtpPeer: Peer
  let hook: Server
  let hookPosts = 0
  const notifyFile = join(tmp.dir, 'notifications.log')

  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: tmp.dir,
    DNS_SERVER: lab.server,
    DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
    DANEEL_STATE: join(tmp.dir, 'state'),
    CRYPTO_PATH: join(tmp.dir, 'crypto'),
  })
  const monitor = (args: string[], extra: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [cliPath, 'monitor', '--json', ...args],
        { env: { ...env(), ...extra }, timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
          try {
            resolve({ code, json: JSON.parse(stdout), stdout, stderr })
          } catch {
            reject(new Error(`monitor exit ${code}, stdout ${stdout}, stderr ${stderr}`))
          }
        },
      )
    })
  const r311 = (c: TestCert): string => formatTlsaRdata(makeTlsaRecord(c.certDer, 3, 1, 1))
  const owner = (port: number, host = 'mx'): string => `_${port}._tcp.${host}`
  const notifications = (): number => (existsSync(notifyFile) ? readFileSync(notifyFile, 'utf8').split('\n---\n').length - 1 : 0)

  before(async () => {
    ;({ cur, next, other, soon } = issueServiceCerts(tmp.dir, HOST))
    tlsPeer = await startOpensslServer({ certPath: cur.certPath, keyPath: cur.keyPath })
    soonPeer = await startOpensslServer({ certPath: soon.certPath, keyPath: soon.keyPath })
    smtpPeer = await startSmtpStarttls({ certPem: cur.certPem, keyPem: readFileSync(cur.keyPath, 'utf8'), host: HOST })
    hook = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        hookPosts++
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r))
    lab = await startDnsLab({
      records: {
        'example.test.': [
          'mx IN A 127.0.0.1',
          `${owner(tlsPeer.port)} IN TLSA ${r311(cur)}`,
          `${owner(soonPeer.port)} IN TLSA ${r311(soon)}`,
          `${owner(smtpPeer.port)} IN TLSA ${r311(cur)}`,
        ],
        'badds.test.': ['mx IN A 127.0.0.1', `${owner(tlsPeer.port)} IN TLSA ${r311(cur)}`],
      },
    })
  })
  after(async () => {
    await Promise.allSettled([tlsPeer?.stop(), soonPeer?.stop(), smtpPeer?.stop(), lab?.stop(), new Promise((r) => hook?.close(r))])
    tmp.cleanup()
  })

  /** Sets the TLSA RRset, runs the monitor and OpenSSL on the same records, and checks they agree on the match. */
  async function verdict(
    records: string[],
    port = tlsPeer.port,
  ): Promise<{ run: Run; oracle: Awaited<ReturnType<typeof opensslDaneVerdict>> }> {
    await lab.setRecords('example.test.', owner(port), 'TLSA', records)
    const run = await monitor([
      '--tls',
      `${HOST}:${port}`,
      '--notify-cmd',
      `cat >> '${notifyFile}'; printf '\\n---\\n' >> '${notifyFile}'`,
      '--webhook',
      `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alert`,
    ])
    const oracle = await opensslDaneVerdict({ port, domain: HOST, rrdata: records })
    const check = firstCheck(run)
    assert.equal(check.data.match, oracle.verifyCode === 0, `monitor match=${String(check.data.match)} vs openssl ${oracle.verifyCode}`)
    return { run, oracle }
  }

  test('healthy: the presented key matches (exit 0), as OpenSSL says', async () => {
    const { run, oracle } = await verdict([r311(cur)])
    assert.equal(oracle.verifyCode, 0)
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.json.checks[0]?.level, 'ok')
    assert.equal(notifications(), 0, 'a first healthy run sends nothing')
  })

  test('no match: failure (exit 1, overall failure), one alert; repeated runs send no more; recovery alerts once', async () => {
    const { run, oracle } = await verdict([r311(other)])
    assert.equal(oracle.verifyCode, 65)
    assert.equal(run.code, 1)
    assert.equal(run.json.overall, 'failure')
    assert.match(firstCheck(run).summary, /no TLSA record .* matches the presented chain/)
    assert.equal(notifications(), 1)
    assert.equal(hookPosts, 1)
    await verdict([r311(other)])
    await verdict([r311(other)])
    assert.equal(notifications(), 1, 'the same failure again: no new alert')
    assert.equal(hookPosts, 1)
    assert.match(readFileSync(notifyFile, 'utf8'), new RegExp(`tls:${HOST}:${tlsPeer.port}: ok -> failure`))
    await verdict([r311(cur)])
    assert.equal(notifications(), 2, 'back to healthy: one alert')
    await verdict([r311(cur)])
    assert.equal(notifications(), 2)
    assert.equal(hookPosts, 2)
  })

  test('rollover in progress (current + next): healthy', async () => {
    const { run, oracle } = await verdict([r311(cur), r311(next)])
    assert.equal(oracle.verifyCode, 0)
    assert.equal(run.code, 0)
    assert.match(firstCheck(run).summary, /rollover in progress/)
  })

  test('stale records (more than two): warning (exit 1)', async () => {
    const { run, oracle } = await verdict([r311(cur), r311(next), r311(other)])
    assert.equal(oracle.verifyCode, 0)
    assert.equal(run.code, 1)
    assert.match(firstCheck(run).summary, /stale records/)
  })

  test('certificate expiring: warning (exit 1)', async () => {
    const { run, oracle } = await verdict([r311(soon)], soonPeer.port)
    assert.equal(oracle.verifyCode, 0)
    assert.equal(run.code, 1)
    assert.match(firstCheck(run).summary, /expires in [23] day/)
  })

  test('SMTP with STARTTLS (RFC 7672): healthy, then no match', async () => {
    const oracle = await opensslDaneVerdict({ port: smtpPeer.port, domain: HOST, rrdata: [r311(cur)], smtp: true })
    const ok = await monitor(['--smtp', `${HOST}:${smtpPeer.port}`])
    assert.equal(oracle.verifyCode, 0)
    assert.equal(ok.code, 0, JSON.stringify(ok.json))
    assert.equal(ok.json.checks[0]?.data.match, true)
    await lab.setRecords('example.test.', owner(smtpPeer.port), 'TLSA', [r311(other)])
    const bad = await monitor(['--smtp', `${HOST}:${smtpPeer.port}`])
    const oracle2 = await opensslDaneVerdict({ port: smtpPeer.port, domain: HOST, rrdata: [r311(other)], smtp: true })
    assert.equal(oracle2.verifyCode, 65)
    assert.equal(bad.code, 1)
    assert.equal(bad.json.overall, 'failure')
    assert.equal(bad.json.checks[0]?.data.match, false)
  })

  test('DNS bogus: failure (exit 1, overall failure) even though the records would match (OpenSSL, given them blindly, accepts)', async () => {
    const run = await monitor(['--tls', `mx.badds.test:${tlsPeer.port}`])
    const oracle = await opensslDaneVerdict({ port: tlsPeer.port, domain: 'mx.badds.test', rrdata: [r311(cur)] })
    assert.equal(oracle.verifyCode, 0)
    assert.equal(run.code, 1)
    assert.equal(run.json.overall, 'failure')
    assert.equal(run.json.checks[0]?.data.status, 'bogus')
    assert.match(firstCheck(run).summary, /DNSSEC bogus/)
    assert.equal(run.json.checks[0]?.data.match, true, 'the monitor, too, finds that the untrusted records would match')
  })

  test('quiet when healthy, a table with --verbose, usage errors exit 2', async () => {
    await lab.setRecords('example.test.', owner(tlsPeer.port), 'TLSA', [r311(cur)])
    const quiet = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, [cliPath, 'monitor', '--tls', `${HOST}:${tlsPeer.port}`], { env: env() }, (err, out) =>
        resolve({ code: err === null ? 0 : Number(err.code), out }),
      )
    })
    assert.equal(quiet.code, 0)
    assert.equal(quiet.out, '')
    const verbose = await new Promise<string>((resolve) => {
      execFile(process.execPath, [cliPath, 'monitor', '--verbose', '--tls', `${HOST}:${tlsPeer.port}`], { env: env() }, (_e, out) =>
        resolve(out),
      )
    })
    assert.match(verbose, /^STATUS\s+CHECK\s+TARGET\s+SUMMARY\nOK\s+tls\s+mx\.example\.test:\d+/)
    const usage = await new Promise<number>((resolve) => {
      execFile(process.execPath, [cliPath, 'monitor', '--tls', 'no-port'], { env: env() }, (err) =>
        resolve(err === null ? 0 : Number(err.code)),
      )
    })
    assert.equal(usage, 2)
  })

  test('device identities: remote names, our own (matching, expiring, different)', async () => {
    const remote = await monitor(['--identity', 'dev1._device.example.test', '--identity', 'tampered._device.example.test'])
    assert.equal(remote.code, 1)
    assert.equal(remote.json.overall, 'failure')
    const byId = new Map(remote.json.checks.map((c) => [c.id, c]))
    assert.equal(byId.get('identity:dev1._device.example.test')?.level, 'ok')
    assert.match(byId.get('identity:tampered._device.example.test')?.summary ?? '', /DNSSEC bogus/)

    const crypto = join(tmp.dir, 'crypto')
    const own = createIdentity({ cryptoPath: crypto, daneId: 'own9._device.example.test' }).cert
    const soonId = createIdentity({ cryptoPath: crypto, daneId: 'soon9._device.example.test', days: 3 }).cert
    assert.ok(own !== undefined && soonId !== undefined, 'self-signed identities carry their certificate')
    await lab.setRecords('example.test.', 'own9._device', 'TLSA', [formatTlsaRdata(makeTlsaRecord(own, 3, 0, 0))])
    await lab.setRecords('example.test.', 'soon9._device', 'TLSA', [formatTlsaRdata(makeTlsaRecord(soonId, 3, 0, 0))])
    const ok = await monitor([], { DANE_ID: 'own9._device.example.test' })
    assert.equal(ok.code, 0, JSON.stringify(ok.json))
    assert.equal(ok.json.checks[0]?.data.match, true)
    const exp = await monitor([], { DANE_ID: 'soon9._device.example.test' })
    assert.equal(exp.code, 1)
    assert.match(firstCheck(exp).summary, /certificate expires in [23] day/)
    await lab.setRecords('example.test.', 'own9._device', 'TLSA', [formatTlsaRdata(makeTlsaRecord(soonId, 3, 0, 0))])
    const diff = await monitor([], { DANE_ID: 'own9._device.example.test' })
    assert.equal(diff.code, 1)
    assert.equal(diff.json.overall, 'failure')
    assert.match(firstCheck(diff).summary, /do not match the local certificate/)
  })
})
