/** `daneel provision`'s DNS self-check asks the resolver and trust anchors it was given (--dns/--trust-anchors, or their env vars). */

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type DemoDnsServer, startDnsServer } from '../../cli/demo/dns-server.js'
import { signZone } from '../../cli/demo/zone.js'
import { encodeTlsaRdata, makeTlsaRecord } from '../../src/dane/tlsa.js'
import { TYPE } from '../../src/dns/wire.js'
import { createIdentity } from '../../src/identity/store.js'
import { cliPath, makeTempDir } from '../../testkit/paths.js'

const NAME = 'dev1._device.prov.test'
const tmp = makeTempDir('daneel-provision-dns-')
const anchors = join(tmp.dir, 'anchors.txt')
let dns: DemoDnsServer

before(async () => {
  // The identity exists (a previous create); DNS serves its full certificate as 3 0 0, what provisioning publishes.
  for (const dir of ['flags', 'env']) {
    const { cert } = createIdentity({ cryptoPath: join(tmp.dir, dir), daneId: NAME })
    assert.ok(cert !== undefined, 'a self-signed identity carries its certificate')
    if (dir === 'flags') {
      const zone = signZone('prov.test', [{ name: NAME, type: TYPE.TLSA, rdata: encodeTlsaRdata(makeTlsaRecord(cert, 3, 0, 0)) }])
      dns = await startDnsServer(zone)
      writeFileSync(anchors, zone.trustAnchor)
    }
  }
})

after(async () => {
  await dns?.close()
  tmp.cleanup()
})

/** One line the console answers (docs: the provisioning line protocol), as far as these tests read it. */
interface Reply {
  id?: number
  ok?: boolean
  result?: { matched?: boolean }
}

/** Runs the console over stdio (async: the DNS server lives in this process) and returns its replies. */
async function provision(args: string[], env: Record<string, string>, crypto: string): Promise<Reply[]> {
  const child = spawn(process.execPath, [cliPath, 'provision', '--stdio', '--crypto-path', crypto, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  child.stdin.end(`{"id":1,"op":"set","values":{"DANE_ID":"${NAME}"}}\n{"id":2,"op":"check"}\n{"id":3,"op":"quit"}\n`)
  await new Promise((r) => child.once('exit', r))
  return out
    .split('\r\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Reply)
}

test('--dns and --trust-anchors reach the self-check: the published identity matches (secure), not "bogus"', async () => {
  const replies = await provision(['--dns', dns.address, '--trust-anchors', anchors], {}, join(tmp.dir, 'flags'))
  const check = replies.find((r) => r.id === 2)
  assert.equal(check?.ok, true, JSON.stringify(replies))
  assert.equal(check?.result?.matched, true)
})

test('DNS_SERVER and DNSSEC_TRUST_ANCHORS in the environment reach it too; a wrong anchor file is named', async () => {
  // The env directory's identity is not in the zone: the check fails, but against our server and anchors.
  const missing = join(tmp.dir, 'no-such-anchors.txt')
  const replies = await provision([], { DNS_SERVER: dns.address, DNSSEC_TRUST_ANCHORS: missing }, join(tmp.dir, 'env'))
  const check = replies.find((r) => r.id === 2)
  assert.equal(check?.ok, false)
  assert.match(JSON.stringify(check), /no-such-anchors\.txt/)
  const good = await provision([], { DNS_SERVER: dns.address, DNSSEC_TRUST_ANCHORS: anchors }, join(tmp.dir, 'flags'))
  assert.equal(good.find((r) => r.id === 2)?.result?.matched, true, JSON.stringify(good))
})
