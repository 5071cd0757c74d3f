/** `daneel demo` (what `npm start` runs): broker, signed DNS zone, two simulated nodes and a receiver, all on loopback in one process. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { systemClock } from '../../src/clock.js'
import { getProvider } from '../../src/crypto/get-provider.js'
import { createPeerDirectory } from '../../src/dane/discover.js'
import { encodeTlsaRdata, formatTlsaZoneLine, makeTlsaRecord } from '../../src/dane/tlsa.js'
import { loadTrustAnchors } from '../../src/dns/dnssec/anchors.js'
import { createResolver } from '../../src/dns/resolver.js'
import { TYPE } from '../../src/dns/wire.js'
import { DaneelError } from '../../src/errors.js'
import { createIdentity, loadIdentity } from '../../src/identity/store.js'
import { createLogger } from '../../src/log.js'
import { parseCommand } from '../args.js'
import { Air } from '../demo/air.js'
import { startBroker } from '../demo/broker.js'
import { startDnsServer } from '../demo/dns-server.js'
import { type DemoNode, startNode } from '../demo/nodes.js'
import { formatLine } from '../demo/print.js'
import { type ListenLine, startReceiver } from '../demo/receiver.js'
import { signZone, type ZoneRecord } from '../demo/zone.js'

export const summary = 'everything on loopback: embedded broker, DNS, two simulated nodes, a receiver'

const HELP = `Usage: daneel demo [--json] [--count N] [--duration SECONDS] [--interval SECONDS] [--verbose]

Runs the whole system on loopback in this one process, with nothing to set up:
  - an MQTT broker (aedes) on 127.0.0.1 at a free port;
  - an authoritative DNS server (UDP and TCP, 127.0.0.1, free port) serving the zone daneel.test, freshly signed
    (ECDSA P-256) with the identities' TLSA records; its DS is the resolver's trust anchor (DNSSEC_TRUST_ANCHORS);
  - two simulated air-quality nodes running the real device runtime, their PMS5003 / SDS011 / MH-Z19B sensors
    played by emulators that speak the chips' serial protocols and a PPD42NS by low pulses on a fake GPIO pin,
    sealing readings (ES256 JWS in an ECDH-ES JWE)
    to the receiver's name;
  - a receiver that looks each sender up in DNS (DNSSEC-validated), opens and verifies every message and prints it.
Keys, zone and state live in a temporary directory, removed on exit. Ctrl-C stops it cleanly.

  --json              one JSON object per verified message (from, claims, reading, auth, receivedAt) instead of text
  --count N           stop after N verified readings
  --duration SECONDS  stop after this long
  --interval SECONDS  seconds between readings per sensor (default 2)
  --verbose           log the nodes' and servers' activity to stderr`

const ZONE = 'daneel.test'
const NODES = [
  { name: `node1.airquality._device.${ZONE}`, particulate: 'pms5003' as const, air: new Air(9, 620) },
  { name: `node2.airquality._device.${ZONE}`, particulate: 'sds011' as const, ppd42ns: true, air: new Air(21, 940) },
]
const RECEIVER = `receiver._device.${ZONE}`

function positive(value: string | undefined, flag: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new DaneelError('ERR_USAGE', `${flag} must be a positive ${integer ? 'whole ' : ''}number, not '${value}'`)
  return n
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      json: { type: 'boolean' },
      count: { type: 'string' },
      duration: { type: 'string' },
      interval: { type: 'string' },
      verbose: { type: 'boolean' },
    },
    HELP,
    0,
  )
  if (parsed === undefined) return 0
  const json = parsed.values.json === true
  const count = positive(parsed.values.count, '--count', true)
  const duration = positive(parsed.values.duration, '--duration', false)
  const interval = positive(parsed.values.interval, '--interval', false) ?? 2
  const verbose = parsed.values.verbose === true
  const log = createLogger({ name: 'demo', level: verbose ? 'debug' : 'warn' })
  // The nodes' own warnings (a dropped connection while everything shuts down) are noise in a demo unless asked for.
  const nodeLog = createLogger({ name: 'node', level: verbose ? 'debug' : 'error' })
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`)
  }
  const note = (line: string): void => {
    if (!json) process.stderr.write(`${line}\n`)
  }

  const dir = mkdtempSync(join(tmpdir(), 'daneel-demo-'))
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })]
  let finish: (code: number) => void = () => {}
  const finished = new Promise<number>((resolve) => {
    finish = resolve
  })
  const onSignal = (): void => finish(0)
  // Once stopping, messages still arriving while the nodes drain are not printed (--count means exactly N).
  let stopped = false
  let summary = (): void => {}
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    // 1. Identities (P-256 keys, self-signed certificates) and their TLSA records: 3 1 0, the full SPKI, which
    //    is what a peer needs to encrypt to the name (docs/contract.md "TLSA").
    const cryptoPath = join(dir, 'crypto')
    const records: ZoneRecord[] = []
    for (const name of [...NODES.map((n) => n.name), RECEIVER]) {
      const id = createIdentity({ cryptoPath, daneId: name })
      if (id.cert === undefined) throw new DaneelError('ERR_IDENTITY_MISSING', `no certificate for ${name}`)
      const rec = makeTlsaRecord(id.cert, 3, 1, 0)
      records.push({ name, type: TYPE.TLSA, rdata: encodeTlsaRdata(rec) })
      note(`identity  ${formatTlsaZoneLine(name, rec).slice(0, 110)}...`)
    }
    // 2. The signed zone, its server and its trust anchor, exactly as a DNSSEC_TRUST_ANCHORS file.
    const zone = signZone(ZONE, records)
    const dns = await startDnsServer(zone)
    cleanups.push(() => dns.close())
    const anchors = join(dir, 'trust-anchors.txt')
    writeFileSync(anchors, zone.trustAnchor)
    note(`dns       ${ZONE} signed (ECDSA P-256, key tag ${zone.keyTag}), served on ${dns.address}; anchor: ${zone.trustAnchor.trim()}`)
    const resolver = createResolver({ servers: [dns.address], clock: systemClock, trustAnchors: loadTrustAnchors(anchors) })
    // 3. The broker.
    const broker = await startBroker()
    cleanups.push(() => broker.close())
    note(`mqtt      aedes broker on ${broker.url}`)
    // 4. The receiver first, so no reading is published before anyone subscribed.
    const provider = getProvider('node')
    const directory = createPeerDirectory({ resolver, clock: systemClock, noDnssec: false, log })
    const readingsBySender = new Map<string, number>()
    let readings = 0
    const receiver = startReceiver({
      name: RECEIVER,
      key: loadIdentity(cryptoPath, RECEIVER).privateKey,
      provider,
      directory,
      trustedDomains: [ZONE],
      mqttUrl: broker.url,
      clock: systemClock,
      log: nodeLog,
      onMessage: (msg: ListenLine) => {
        const isReading = msg.reading !== undefined && typeof msg.reading.values === 'object'
        if (stopped || (count !== undefined && readings >= count)) return
        if (isReading) {
          readings++
          readingsBySender.set(msg.from, (readingsBySender.get(msg.from) ?? 0) + 1)
        }
        out(json ? JSON.stringify(msg) : formatLine(msg))
        if (count !== undefined && readings >= count) finish(0)
      },
    })
    cleanups.push(() => receiver.close())
    await receiver.ready
    note(`receiver  ${RECEIVER} subscribed; trusting senders under ${ZONE}`)
    // 5. The nodes: the real runtime, each with its own config file, state directory and outbox.
    const nodes: DemoNode[] = []
    cleanups.push(async () => {
      for (const n of nodes) await n.stop()
    })
    for (const spec of NODES) {
      nodes.push(
        await startNode(spec, {
          dir,
          cryptoPath,
          recipient: RECEIVER,
          mqttUrl: broker.url,
          dns: dns.address,
          anchors,
          tlsa: resolver,
          log: nodeLog,
          intervalSeconds: interval,
        }),
      )
      note(
        `node      ${spec.name}: ${spec.particulate} + mhz19b (fake UARTs)${spec.ppd42ns === true ? ' + ppd42ns (fake GPIO 17)' : ''}, a reading every ${interval} s per sensor`,
      )
    }
    note(json ? '' : `\nverified readings (Ctrl-C to stop):`)
    if (duration !== undefined) setTimeout(() => finish(0), duration * 1000).unref()
    const code = await finished
    stopped = true
    summary = () =>
      note(
        `\n${readings} readings verified (${[...readingsBySender].map(([k, v]) => `${k.split('.')[0]} ${v}`).join(', ')}), rejected: ${JSON.stringify(receiver.rejected())}`,
      )
    return code
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    // Reverse order: nodes drain first, then the receiver, broker and DNS stop, then the temp dir goes.
    for (const c of cleanups.reverse()) {
      try {
        await c()
      } catch (err) {
        log.warn('cleanup step failed', { error: String(err) })
      }
    }
    summary()
  }
}
