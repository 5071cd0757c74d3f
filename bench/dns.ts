/** bench/dns: cold validated lookups from the lab root (vs delv), cached lookups (vs node:dns/c-ares), validations/s (vs bare crypto.verify). */

import { verify } from 'node:crypto'
import { Resolver as CaresResolver } from 'node:dns/promises'
import { readFileSync } from 'node:fs'
import { fixedClock, systemClock } from '../src/clock.js'
import { loadTrustAnchors, parseTrustAnchors } from '../src/dns/dnssec/anchors.js'
import { rrsigSignedData } from '../src/dns/dnssec/canonical.js'
import { createChain } from '../src/dns/dnssec/chain.js'
import { dnskeyPublicKey } from '../src/dns/dnssec/keys.js'
import { createValidator } from '../src/dns/dnssec/validator.js'
import { parseRrsig } from '../src/dns/rdata.js'
import { createResolver } from '../src/dns/resolver.js'
import { findRrset } from '../src/dns/rrsets.js'
import { decodeMessage, type Message, TYPE } from '../src/dns/wire.js'
import { delv } from '../testkit/dns-lab/delv.js'
import { startDnsLab } from '../testkit/dns-lab.js'
import type { LabFixture } from '../testkit/dns-replay.js'
import { fixturePath } from '../testkit/paths.js'

const json = process.argv.includes('--json')
const rows: Array<Record<string, string | number>> = []
const row = (r: Record<string, string | number>): void => {
  rows.push(r)
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`)
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

async function main(): Promise<void> {
  const lab = await startDnsLab()
  try {
    const anchors = loadTrustAnchors(lab.trustAnchorsFile)
    for (const [name, note] of [
      ['dev1._device.example.test.', 'alg 13, 3 queries deep, UDP'],
      ['dev2._device.rsa.test.', 'alg 8, TC then TCP'],
      ['dev1._device.insecure.test.', 'insecure proof (NSEC3)'],
    ] as const) {
      const ours: number[] = []
      for (let i = 0; i < 25; i++) {
        const r = createResolver({ servers: [lab.server], clock: systemClock, trustAnchors: anchors })
        const t0 = performance.now()
        await r.query(name, TYPE.TLSA)
        ours.push(performance.now() - t0)
      }
      const theirs: number[] = []
      for (let i = 0; i < 10; i++) theirs.push((await delv(lab.port, lab.delvAnchorsFile, name, 'TLSA')).ms)
      row({
        case: `cold validated lookup ${name} (${note})`,
        unit: 'ms',
        ours: +median(ours).toFixed(2),
        peer: 'delv 9.18 (process incl.)',
        peerValue: +median(theirs).toFixed(2),
      })
    }

    // Cached: the same answer from our cache vs c-ares asking the server each time (no validation).
    const r = createResolver({ servers: [lab.server], clock: systemClock, trustAnchors: anchors })
    await r.query('device.example.test', TYPE.A)
    const N = 20000
    let t0 = performance.now()
    for (let i = 0; i < N; i++) await r.query('device.example.test', TYPE.A)
    const cachedUs = ((performance.now() - t0) * 1000) / N
    const cares = new CaresResolver({ timeout: 2000, tries: 1 })
    cares.setServers([lab.server])
    const M = 500
    t0 = performance.now()
    for (let i = 0; i < M; i++) await cares.resolve4('device.example.test')
    const caresUs = ((performance.now() - t0) * 1000) / M
    row({
      case: 'cached lookup device.example.test A (secure)',
      unit: 'µs',
      ours: +cachedUs.toFixed(2),
      peer: 'node:dns c-ares resolve4 (network, unvalidated)',
      peerValue: +caresUs.toFixed(1),
    })

    // Validations/s: the recorded answer re-validated (keys already trusted) vs one bare crypto.verify of its RRSIG.
    const fx = JSON.parse(readFileSync(fixturePath('dns/lab-2026-11-25.json'), 'utf8')) as LabFixture
    const fanchors = parseTrustAnchors(fx.trustAnchors)
    for (const [qname, alg] of [
      ['dev1._device.example.test.', 13],
      ['dev1._device.ed.test.', 15],
      ['dev2._device.rsa.test.', 8],
    ] as const) {
      // The validator alone on a decoded reply (chain keys already trusted): what each received answer costs.
      const decoded = new Map(Object.entries(fx.exchanges).map(([k, b]) => [k, decodeMessage(new Uint8Array(Buffer.from(b, 'base64')))]))
      const chain = createChain({
        fetch: async (n, t) => (decoded.get(`${t}/${n}/udp`) ?? Promise.reject(new Error(`${t}/${n} not recorded`))) as Message,
        anchors: fanchors,
        clock: fixedClock(fx.clockMs),
      })
      const validator = createValidator({ chain, clock: fixedClock(fx.clockMs) })
      const reply = decoded.get(`${TYPE.TLSA}/${qname}/${alg === 8 ? 'tcp' : 'udp'}`) as Message
      if ((await validator.validate(qname, TYPE.TLSA, reply)).status !== 'secure') throw new Error(`${qname} not secure`)
      const K = 2000
      t0 = performance.now()
      for (let i = 0; i < K; i++) await validator.validate(qname, TYPE.TLSA, reply)
      const perSec = K / ((performance.now() - t0) / 1000)
      // the floor: crypto.verify of the same RRSIG over prebuilt signed data
      const key = `${TYPE.TLSA}/${qname}/${alg === 8 ? 'tcp' : 'udp'}`
      const msg = decodeMessage(new Uint8Array(Buffer.from(fx.exchanges[key] as string, 'base64')))
      const g = findRrset(msg.answers, qname, TYPE.TLSA)
      const sig0 = g?.sigs[0]
      if (sig0 === undefined) throw new Error(`no RRSIG recorded for ${qname}`)
      const sig = parseRrsig(sig0.rdata)
      const keysMsg = decodeMessage(new Uint8Array(Buffer.from(fx.exchanges[`${TYPE.DNSKEY}/${sig.signer}/udp`] as string, 'base64')))
      const dnskeys = findRrset(keysMsg.answers, sig.signer, TYPE.DNSKEY)?.rrs ?? []
      const data = rrsigSignedData(sig.head, g?.rrs ?? [])
      const pub = dnskeys
        .map((k) => dnskeyPublicKey(k.rdata))
        .find(
          (p) =>
            p !== undefined &&
            (alg === 13
              ? verify('sha256', data, { key: p, dsaEncoding: 'ieee-p1363' }, sig.signature)
              : verify(alg === 8 ? 'sha256' : null, data, p, sig.signature)),
        )
      if (pub === undefined) throw new Error('no key verifies')
      t0 = performance.now()
      for (let i = 0; i < K; i++)
        alg === 13
          ? verify('sha256', data, { key: pub, dsaEncoding: 'ieee-p1363' }, sig.signature)
          : verify(alg === 8 ? 'sha256' : null, data, pub, sig.signature)
      const floor = K / ((performance.now() - t0) / 1000)
      row({
        case: `validations/s ${qname} TLSA (alg ${alg}: validator on a decoded reply, keys trusted)`,
        unit: '/s',
        ours: Math.round(perSec),
        peer: 'bare crypto.verify of the same RRSIG',
        peerValue: Math.round(floor),
      })
    }
  } finally {
    await lab.stop()
  }
  if (!json) {
    const w = Math.max(...rows.map((r) => String(r.case).length))
    process.stdout.write(`${'case'.padEnd(w)}  ${'ours'.padStart(10)}  ${'peer'.padStart(10)}  unit  peer\n`)
    for (const r of rows)
      process.stdout.write(
        `${String(r.case).padEnd(w)}  ${String(r.ours).padStart(10)}  ${String(r.peerValue).padStart(10)}  ${String(r.unit).padEnd(4)}  ${String(r.peer)}\n`,
      )
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
