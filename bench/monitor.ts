/** bench/monitor: a DANE service check (vs openssl s_client -dane_tlsa_rrdata), PKIX-CD verify (vs openssl verify), cached peer lookups. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { observeService } from '../cli/monitor/observe.js'
import { systemClock } from '../src/clock.js'
import { viewCertificate } from '../src/dane/cert-view.js'
import { createPeerDirectory } from '../src/dane/discover.js'
import { resolverHostLookup } from '../src/dane/host-resolver.js'
import { verifyPkixCdChain } from '../src/dane/pkix-cd.js'
import { formatTlsaRdata, makeTlsaRecord } from '../src/dane/tlsa.js'
import { loadTrustAnchors } from '../src/dns/dnssec/anchors.js'
import { createResolver } from '../src/dns/resolver.js'
import { evaluateService } from '../src/monitor/checks.js'
import { createChainMatcher } from '../src/monitor/matcher.js'
import { startDnsLab } from '../testkit/dns-lab.js'
import { CA_EXT, entityExt, issueCert } from '../testkit/https-ca.js'
import { makeTempDir } from '../testkit/paths.js'
import { opensslDaneVerdict, startOpensslServer, startSmtpStarttls } from '../testkit/tls-peers.js'

const json = process.argv.includes('--json')
const rows: Array<Record<string, string | number>> = []
const row = (r: Record<string, string | number>): void => {
  rows.push(r)
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`)
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
async function time(n: number, f: () => Promise<unknown> | unknown): Promise<number> {
  const t: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await f()
    t.push(performance.now() - t0)
  }
  return median(t)
}

async function main(): Promise<void> {
  const tmp = makeTempDir('daneel-bench-monitor-')
  const host = 'mx.example.test'
  const cert = issueCert(tmp.dir, 'mx', { ext: entityExt(host) })
  const tls = await startOpensslServer({ certPath: cert.certPath, keyPath: cert.keyPath })
  const smtp = await startSmtpStarttls({ certPem: cert.certPem, keyPem: readFileSync(cert.keyPath, 'utf8'), host })
  const rr = formatTlsaRdata(makeTlsaRecord(cert.certDer, 3, 1, 1))
  const lab = await startDnsLab({
    records: { 'example.test.': ['mx IN A 127.0.0.1', `_${tls.port}._tcp.mx IN TLSA ${rr}`, `_${smtp.port}._tcp.mx IN TLSA ${rr}`] },
  })
  try {
    const anchors = loadTrustAnchors(lab.trustAnchorsFile)
    const match = createChainMatcher(() => Date.now())
    for (const [kind, port] of [
      ['tls', tls.port],
      ['smtp', smtp.port],
    ] as const) {
      const ours = await time(15, async () => {
        // a fresh resolver each time: a cold, validated TLSA lookup is part of every monitor run
        const resolver = createResolver({ servers: [lab.server], clock: systemClock, trustAnchors: anchors })
        const ctx = { resolver, resolveHost: resolverHostLookup(resolver), clock: systemClock, noDnssec: false, pkixCd: undefined }
        const r = evaluateService(await observeService(ctx, kind, host, port), { now: Date.now(), warnDays: 14, match })
        if (r.level !== 'ok') throw new Error(r.summary)
      })
      const peer = await time(15, () => opensslDaneVerdict({ port, domain: host, rrdata: [rr], smtp: kind === 'smtp' }))
      row({
        case: `${kind} service check (validated TLSA + handshake + match)`,
        unit: 'ms',
        ours: +ours.toFixed(2),
        peer: 'openssl s_client -dane_tlsa_rrdata (records given, no DNS; process incl.)',
        peerValue: +peer.toFixed(2),
      })
    }

    const root = issueCert(tmp.dir, 'root', { ext: CA_EXT })
    const ee = issueCert(tmp.dir, 'ee', { issuer: root, ext: entityExt('pk1._device.example.test') })
    const cachedCa = [viewCertificate(root.certDer)] // what the PKIX-CD cache holds
    const ours = await time(500, () => verifyPkixCdChain('pk1._device.example.test', ee.certDer, cachedCa, systemClock))
    const peer = await time(20, () => execFileSync('openssl', ['verify', '-CAfile', root.certPath, ee.certPath], { stdio: 'ignore' }))
    row({
      case: 'PKIX-CD chain check, CA already fetched (parse + signature + constraints)',
      unit: 'µs',
      ours: +(ours * 1000).toFixed(1),
      peer: 'openssl verify -CAfile (process incl.)',
      peerValue: +(peer * 1000).toFixed(1),
    })

    const resolver = createResolver({ servers: [lab.server], clock: systemClock, trustAnchors: anchors })
    const dir = createPeerDirectory({ resolver, clock: systemClock, noDnssec: false })
    await dir.lookup('dev1._device.example.test')
    const cached = await time(20000, () => dir.lookup('dev1._device.example.test'))
    const below = await time(20000, () => resolver.lookupTlsa('dev1._device.example.test'))
    row({
      case: 'peer key lookup, cached (createPeerDirectory)',
      unit: 'µs',
      ours: +(cached * 1000).toFixed(2),
      peer: 'resolver.lookupTlsa from its cache (the layer below)',
      peerValue: +(below * 1000).toFixed(2),
    })
  } finally {
    await Promise.allSettled([lab.stop(), tls.stop(), smtp.stop()])
    tmp.cleanup()
  }
  if (!json) {
    process.stdout.write('bench/monitor (medians)\n')
    for (const r of rows)
      process.stdout.write(
        `  ${String(r.case).padEnd(78)} ${String(r.ours).padStart(9)} ${r.unit}   vs ${r.peer}: ${r.peerValue} ${r.unit}\n`,
      )
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
