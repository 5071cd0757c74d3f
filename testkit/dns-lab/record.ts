/** Records the lab's wire answers for the offline fixtures: `node build/testkit/dns-lab/record.js OUT.json` (see test/fixtures/dns/README.md). */
import { readFileSync, writeFileSync } from 'node:fs'
import { systemClock } from '../../src/clock.js'
import { parseTrustAnchors } from '../../src/dns/dnssec/anchors.js'
import { createResolver } from '../../src/dns/resolver.js'
import { netTransport, type Transport } from '../../src/dns/transport.js'
import { typeFromString } from '../../src/dns/wire.js'
import { startDnsLab } from '../dns-lab.js'
import { delv } from './delv.js'

/** The cases of issue 4 "Must show", each with the verdict delv gave on the same server at recording time. */
export const LAB_CASES: Array<{ name: string; type: string; note: string }> = [
  { name: 'dev1._device.example.test.', type: 'TLSA', note: 'alg 13, NSEC, 3 0 0 + 3 1 1' },
  { name: 'dev2._device.rsa.test.', type: 'TLSA', note: 'alg 8, NSEC3; 1313 B: truncated over UDP at 1232, fetched over TCP' },
  { name: 'dev1._device.ed.test.', type: 'TLSA', note: 'alg 15' },
  { name: 'dev1._device.p384.test.', type: 'TLSA', note: 'alg 14' },
  { name: 'tampered._device.example.test.', type: 'TLSA', note: 'RDATA altered after signing' },
  { name: 'expired._device.example.test.', type: 'TLSA', note: 'RRSIG expired 10 days before recording' },
  { name: 'dev1._device.badds.test.', type: 'TLSA', note: 'DS in test. matches no DNSKEY' },
  { name: 'dev1._device.insecure.test.', type: 'TLSA', note: 'unsigned delegation, no DS proven by NSEC3 in test.' },
  { name: 'dev1._device.unsigned.optout.test.', type: 'TLSA', note: 'unsigned delegation inside an NSEC3 opt-out span (Knot-signed)' },
  { name: 'dev1._device.optout.test.', type: 'TLSA', note: 'alg 13, NSEC3 opt-out zone signed by knotd itself' },
  { name: 'nx._device.example.test.', type: 'TLSA', note: 'NXDOMAIN, NSEC' },
  { name: 'dev1._device.example.test.', type: 'A', note: 'NODATA, NSEC' },
  { name: 'nx._device.rsa.test.', type: 'TLSA', note: 'NXDOMAIN, NSEC3' },
  { name: 'dev1._device.rsa.test.', type: 'A', note: 'NODATA, NSEC3' },
  { name: '_device.example.test.', type: 'TLSA', note: 'NODATA at an empty non-terminal, NSEC' },
  { name: 'x.wild._device.example.test.', type: 'TLSA', note: 'wildcard expansion with NSEC proof' },
  { name: 'x.wild._device.example.test.', type: 'A', note: 'wildcard NODATA' },
  { name: 'alias._device.example.test.', type: 'TLSA', note: 'CNAME to dev1._device' },
  { name: 'xzone._device.example.test.', type: 'TLSA', note: 'CNAME into ed.test. (alg 13 then alg 15), followed by a second query' },
  { name: 'toinsecure._device.example.test.', type: 'TLSA', note: 'signed CNAME into the unsigned insecure.test.' },
]

async function main(out: string): Promise<void> {
  const lab = await startDnsLab()
  try {
    const exchanges: Record<string, string> = {}
    const recording: Transport = {
      async exchange(x) {
        const reply = await netTransport.exchange(x)
        exchanges[`${x.question.type}/${x.question.name}/${x.tcp ? 'tcp' : 'udp'}`] = Buffer.from(reply).toString('base64')
        return reply
      },
    }
    const anchorsText = readFileSync(lab.trustAnchorsFile, 'utf8')
    const clockMs = Date.now()
    const r = createResolver({
      servers: [lab.server],
      transport: recording,
      clock: systemClock,
      trustAnchors: parseTrustAnchors(anchorsText),
    })
    const cases = []
    for (const c of LAB_CASES) {
      const a = await r.query(c.name, typeFromString(c.type))
      const d = await delv(lab.port, lab.delvAnchorsFile, c.name, c.type)
      if (d.verdict !== a.status) throw new Error(`${c.name} ${c.type}: we say ${a.status}, delv says ${d.verdict}`)
      cases.push({ ...c, expected: d.verdict, negative: a.negative ?? null, delv: d.lines.slice(0, 2) })
    }
    const fixture = {
      source: `knotd ${process.env.KNOT_VERSION ?? '3.2.6'} serving the dns-lab tree (testkit/dns-lab.ts), signed by ldns-signzone 1.8.3; replies captured by testkit/dns-lab/record.ts; expected verdicts from delv 9.18 on the same server in the same run`,
      recordedAt: new Date(clockMs).toISOString(),
      clockMs,
      trustAnchors: anchorsText,
      cases,
      exchanges,
    }
    writeFileSync(out, `${JSON.stringify(fixture, null, 1)}\n`)
    console.log(`wrote ${out}: ${cases.length} cases, ${Object.keys(exchanges).length} exchanges`)
  } finally {
    await lab.stop()
  }
}

if (process.argv[1]?.endsWith('record.js')) {
  main(process.argv[2] ?? 'lab.json').catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}
