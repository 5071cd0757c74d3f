/** bench:fleet — 10,000 DANE device identities against one `daneel gateway`: cold start, steady readings/s, memory and DNS per device. */
import type { ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { formatTlsaRdata, makeTlsaRecord } from '../src/dane/tlsa.js'
import { createIdentity } from '../src/identity/store.js'
import { startDnsCounter } from '../testkit/dns-counter.js'
import { startDnsLab } from '../testkit/dns-lab.js'
import { makeDevices, startSimulator } from '../testkit/fleet-many.js'
import { GATEWAY, type GatewayLab, type GatewayProcess, startGatewayProcess } from '../testkit/gateway-lab.js'
import { liveHeapBytes, nativeKeyBytes, procStat } from '../testkit/heap-snapshot.js'
import { startMosquitto } from '../testkit/mosquitto.js'
import { makeTempDir } from '../testkit/paths.js'

/*
 * The world: N P-256 device identities (keys and self-signed certificates from src/x509, in memory: no key files,
 * no openssl per device), each published as `3 1 0` TLSA (TTL FLEET_TTL, default 300 s) in the DNSSEC-signed
 * example.test. served by Knot; Mosquitto (the RabbitMQ cluster carries the same MQTT, docs/scale.md); FLEET_PROCS
 * simulator processes (testkit/fleet-many.ts) each holding N/FLEET_PROCS identities on one connection; the real
 * `daneel gateway` with SQLite, asking Knot through a counting forwarder (testkit/dns-counter.ts).
 * 1. Baseline: a gateway hears WARM devices (5 readings each), then its live heap (full GC, heap snapshot) and RSS.
 * 2. Cold start: the N devices' first readings wait at the broker; a fresh gateway process starts; timed from
 *    spawn until N are stored. DNS queries counted. Then its live heap and RSS: per known device is
 *    (heap − baseline) / (N − WARM). The peer is the same gateway before: the baseline itself.
 * 3. Steady state, every device known: ROUNDS (FLEET_ROUNDS, default 3) more readings per device queue at the
 *    broker while the gateway is stopped (SIGSTOP); resumed, it drains them alone. Readings/s, and per gateway CPU
 *    second (utime+stime from /proc): readings/s per worker core.
 * 4. Live: every device sends round after round for FLEET_STEADY_S s; DNS queries counted as TTLs run out. Goal
 * (issue 17): ≤ 2 KiB of gateway memory per known device; the OpenSSL state of its key is measured beside it.
 */
const json = process.argv.includes('--json')
const flag = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const N = Number(flag('devices') ?? process.env.FLEET_DEVICES ?? 10_000)
const PROCS = Number(process.env.FLEET_PROCS ?? 2)
const TTL = Number(process.env.FLEET_TTL ?? 300)
const STEADY_S = Number(process.env.FLEET_STEADY_S ?? 30)
const ROUNDS = Number(process.env.FLEET_ROUNDS ?? 3)
const WARM = 50
const names = (p: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${p}${i}.fleet._device.example.test`)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const log = (line: string): boolean => json || process.stderr.write(`${line}\n`)

const NUMS = ['readings', 'seconds', 'readings_per_s', 'readings_per_cpu_s', 'dns_queries', 'heap_mb', 'rss_mb'] as const
type Row = { phase: string; devices: number; note: string } & Record<(typeof NUMS)[number], number | null>
const rows: Row[] = []
const add = (r: Partial<Row> & Pick<Row, 'phase' | 'devices' | 'note'>): number =>
  rows.push({ ...(Object.fromEntries(NUMS.map((k) => [k, null])) as Record<(typeof NUMS)[number], null>), ...r })

async function stored(gw: GatewayProcess): Promise<number> {
  if (gw.proc.exitCode !== null || gw.proc.signalCode !== null) throw new Error(`the gateway exited: ${gw.stderr().slice(-2000)}`)
  try {
    const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text()
    return Number(/^daneel_readings_stored_total (\d+)$/m.exec(text)?.[1] ?? 0)
  } catch {
    return 0
  }
}

async function main(): Promise<void> {
  const tmp = makeTempDir('daneel-bench-fleet-')
  const cryptoPath = join(tmp.dir, 'crypto')
  const diag = join(tmp.dir, 'heap')
  mkdirSync(cryptoPath, { recursive: true })
  mkdirSync(diag, { recursive: true })
  const children: ChildProcess[] = []
  const stops: Array<() => Promise<void>> = []
  try {
    let t = performance.now()
    const gw = createIdentity({ cryptoPath, daneId: GATEWAY, keyType: 'p256' })
    // biome-ignore lint/style/noNonNullAssertion: createIdentity always makes a certificate without --csr
    const gwLine = `gw.gateway._device ${TTL} IN TLSA ${formatTlsaRdata(makeTlsaRecord(gw.cert!, 3, 1, 0))}`
    const fleet = makeDevices(tmp.dir, names('d', N), PROCS, TTL)
    const warm = makeDevices(tmp.dir, names('w', WARM), 1, TTL)
    log(`${N + WARM} identities (P-256 key, self-signed certificate, 3 1 0 record) in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    t = performance.now()
    const lab = await startDnsLab({ records: { 'example.test.': [gwLine, ...fleet.lines, ...warm.lines] } })
    stops.push(() => lab.stop())
    log(`example.test. signed (${N + WARM + 1} TLSA RRsets) and served by Knot in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    const broker = await startMosquitto({ dir: join(tmp.dir, 'broker'), persistence: false })
    stops.push(() => broker.stop())
    const counter = await startDnsCounter({ host: lab.host, port: lab.port })
    stops.push(() => counter.stop())
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      DNS_SERVER: lab.server,
      DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
      CRYPTO_PATH: cryptoPath,
      MQTT_URL: broker.url,
      TRUSTED_DOMAINS: 'example.test',
      LOG_LEVEL: 'warn',
    }
    const world = { dir: tmp.dir, lab, broker, cryptoPath, nodes: [], env, children, stop: async () => {} } as GatewayLab
    const gwWorld = { ...world, env: { ...env, DNS_SERVER: counter.server } } as GatewayLab
    const nodeArgs = ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${diag}`]
    const stopGateway = async (g: GatewayProcess): Promise<void> => {
      g.proc.kill('SIGTERM')
      await g.exited()
    }

    // 1. baseline: a gateway that knows WARM devices
    let g = await startGatewayProcess(gwWorld, [], { nodeArgs })
    children.push(g.proc)
    await g.ready()
    const w = startSimulator(world, warm.keyFiles[0] as string)
    await w.ready
    await w.rounds(0, 5)
    while ((await stored(g)) < WARM * 5) await sleep(20)
    await sleep(1000)
    const rss0 = procStat(g.proc.pid).rssMb
    const heap0 = await liveHeapBytes(g.proc, diag)
    add({
      phase: 'baseline: gateway after 5 readings from each of WARM devices',
      devices: WARM,
      readings: WARM * 5,
      heap_mb: heap0 / 2 ** 20,
      rss_mb: rss0,
      note: 'the peer: the same gateway before the fleet is known',
    })
    w.proc.stdin?.end('quit\n')
    await stopGateway(g)

    // 2. cold start: N first readings wait at the broker (the gateway's persistent session), then a fresh gateway
    const sims = fleet.keyFiles.map((f) => startSimulator(world, f))
    await Promise.all(sims.map((s) => s.ready))
    t = performance.now()
    await Promise.all(sims.map((s) => s.rounds(0, 1)))
    log(`${N} first readings sealed and queued at the broker in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    const q0 = counter.counts()
    t = performance.now()
    g = await startGatewayProcess(gwWorld, [], { nodeArgs })
    children.push(g.proc)
    while ((await stored(g)) < N) await sleep(20)
    const coldS = (performance.now() - t) / 1000
    const q1 = counter.counts()
    const coldCpu = procStat(g.proc.pid).cpuS
    await sleep(1000)
    const rss1 = procStat(g.proc.pid).rssMb
    const heap1 = await liveHeapBytes(g.proc, diag)
    const perDevice = (heap1 - heap0) / (N - WARM)
    add({
      phase: 'cold start: spawn until every first reading is stored',
      devices: N,
      readings: N,
      seconds: coldS,
      readings_per_s: N / coldS,
      readings_per_cpu_s: N / coldCpu,
      dns_queries: q1.total - q0.total,
      heap_mb: heap1 / 2 ** 20,
      rss_mb: rss1,
      note: `heap per known device ${perDevice.toFixed(0)} B (goal ≤ 2048), RSS per device ${(((rss1 - rss0) * 2 ** 20) / (N - WARM)).toFixed(0)} B; DNS ${JSON.stringify(diff(q1.byType, q0.byType))}`,
    })

    // 3. steady state, all devices known: ROUNDS more readings each wait at the broker while the gateway is
    // stopped (SIGSTOP), then it drains them alone: no sealing simulator competes for the CPU
    const s0 = await stored(g)
    g.proc.kill('SIGSTOP')
    await Promise.all(sims.map((s) => s.rounds(1, 1 + ROUNDS)))
    let q2 = counter.counts()
    let c0 = procStat(g.proc.pid).cpuS
    t = performance.now()
    g.proc.kill('SIGCONT')
    while ((await stored(g)) < N * (1 + ROUNDS)) await sleep(20)
    let s1 = await stored(g)
    const drainS = (performance.now() - t) / 1000
    let c1 = procStat(g.proc.pid).cpuS
    add({
      phase: `steady state: ${ROUNDS} readings from every known device, drained from the broker`,
      devices: N,
      readings: s1 - s0,
      seconds: drainS,
      readings_per_s: (s1 - s0) / drainS,
      readings_per_cpu_s: (s1 - s0) / (c1 - c0),
      dns_queries: counter.counts().total - q2.total,
      rss_mb: procStat(g.proc.pid).rssMb,
      note: 'the gateway alone on the CPU: readings/s per gateway CPU second is readings/s per worker core',
    })

    // 4. live: every device sending round after round for STEADY_S s, DNS refreshes counted as the TTLs run out
    q2 = counter.counts()
    const s2 = await stored(g)
    c0 = procStat(g.proc.pid).cpuS
    t = performance.now()
    const running = sims.map((s) => s.rounds(1 + ROUNDS, 1_000_000).catch(() => undefined))
    await sleep(STEADY_S * 1000)
    s1 = await stored(g)
    c1 = procStat(g.proc.pid).cpuS
    const liveS = (performance.now() - t) / 1000
    const dnsLive = counter.counts().total - q2.total
    add({
      phase: `live: ${STEADY_S} s, every device sending as fast as its simulator seals`,
      devices: N,
      readings: s1 - s2,
      seconds: liveS,
      readings_per_s: (s1 - s2) / liveS,
      readings_per_cpu_s: (s1 - s2) / (c1 - c0),
      dns_queries: dnsLive,
      rss_mb: procStat(g.proc.pid).rssMb,
      note: `DNS per device per day: ${((((q1.total - q0.total) / N) * 86400) / TTL).toFixed(0)} (cold-start queries per device × 86400 / TTL ${TTL}); measured over this window: ${((dnsLive / N / liveS) * 86400).toFixed(0)} (meaningful once the window spans a TTL)`,
    })
    for (const s of sims) s.proc.kill('SIGTERM')
    await Promise.all(running)
    await stopGateway(g)
    const db = new Database(join(tmp.dir, 'gw-state', 'readings.db'), { readonly: true })
    const firsts = (db.prepare('SELECT COUNT(DISTINCT node) AS n FROM readings WHERE seq = 0 AND node LIKE ?').get('d%') as { n: number }).n
    const rowsStored = (db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n
    const pages = db.pragma('page_count', { simple: true }) as number
    const pageSize = db.pragma('page_size', { simple: true }) as number
    db.close()
    if (firsts !== N) throw new Error(`${firsts} devices have their first reading stored, not ${N}`)
    log(`checked: the store holds seq 0 of all ${N} devices`)
    const native = nativeKeyBytes()
    add({
      phase: 'peer: one node:crypto P-256 KeyObject (OpenSSL), verified with once',
      devices: 10_000,
      rss_mb: (native * 10_000) / 2 ** 20,
      note: `${native.toFixed(0)} B of RSS per key outside the V8 heap: the gateway keeps one per known device`,
    })
    const last = rows.at(-2) as Row
    last.note += `; SQLite: ${rowsStored} rows, ${((pages * pageSize) / rowsStored).toFixed(0)} bytes per row with indexes`
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    for (const s of stops.reverse()) await s().catch(() => undefined)
    tmp.cleanup()
  }
}

function diff(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]))
}

await main()
const load = loadavg().map((x) => x.toFixed(1))
if (json) {
  for (const r of rows) process.stdout.write(`${JSON.stringify({ bench: 'fleet', ...r, load: loadavg()[0] })}\n`)
} else {
  const f = (v: number | null, d = 1): string => (v === null ? '-' : v.toFixed(d))
  process.stdout.write(
    `bench:fleet  N=${N} devices (P-256, 3 1 0, TTL ${TTL} s) in a Knot-served signed zone, ${PROCS} simulator processes, Mosquitto, daneel gateway (SQLite), node ${process.version}, load average ${load.join(' ')}\n`,
  )
  process.stdout.write('| phase | devices | readings | s | readings/s | per gateway CPU s | DNS queries | live heap MB | RSS MB | note |\n')
  process.stdout.write('|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n')
  for (const r of rows)
    process.stdout.write(
      `| ${r.phase} | ${r.devices} | ${r.readings ?? '-'} | ${f(r.seconds, 2)} | ${f(r.readings_per_s, 0)} | ${f(r.readings_per_cpu_s, 0)} | ${r.dns_queries ?? '-'} | ${f(r.heap_mb)} | ${f(r.rss_mb)} | ${r.note} |\n`,
    )
}
