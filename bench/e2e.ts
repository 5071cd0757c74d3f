/** bench/e2e: sealed readings paced through Mosquitto, each segment's p50/p99 and CPU-ms per message, beside plain MQTT.js in the same run. */
import { type ChildProcess, spawn } from 'node:child_process'
import { createPublicKey } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openOutbox } from '../messaging/outbox.js'
import { getProvider } from '../src/crypto/get-provider.js'
import { formatTlsaRdata, makeTlsaRecord } from '../src/dane/tlsa.js'
import { createIdentity, loadIdentity } from '../src/identity/store.js'
import { createSealer } from '../src/message/seal.js'
import { startDnsLab } from '../testkit/dns-lab.js'
import { type Mosquitto, startMosquitto } from '../testkit/mosquitto.js'
import { makeTempDir } from '../testkit/paths.js'
import type { SideArgs } from './e2e-sides.js'

/*
 * Usage: npm run bench:e2e [-- --quick] [--json] [--persistence] [--rates 250,1000]
 * Each rate runs plain MQTT.js (the peer: QoS 1, window 20, the same bytes, no seal/open/outbox) and then
 * daneel (seal, disk outbox with fdatasync group commit, OutboxSender, Mosquitto, listen's pipeline: open with
 * the DANE lookup cached, JSON line to stdout, replay journal, PUBACK). Sender and receiver are separate
 * processes, paced evenly at the rate. Mosquitto runs with persistence off unless --persistence (then
 * `persistence true`, `autosave_interval 1`: it saves its database every second on its only thread).
 * Segments (daneel): seal; outbox (append to handed to publish); publish (to its bytes written to the socket; plain: to MQTT.js's packetsend); broker (to the
 * receiver's MQTT.js handing it over: loopback, Mosquitto, parse); receiver queue (to open start); open; output
 * (the JSON line written); ack (replay journaled, PUBACK sent). e2e is seal start to output written.
 */
const self = dirname(fileURLToPath(import.meta.url))
const json = process.argv.includes('--json')
const quick = process.argv.includes('--quick')
const persistence = process.argv.includes('--persistence')
const ratesArg = process.argv[process.argv.indexOf('--rates') + 1]
const rates = process.argv.includes('--rates') && ratesArg !== undefined ? ratesArg.split(',').map(Number) : [250, 1000]
const SECONDS = quick ? 6 : 15
const RX = 'rx.gateway._device.example.test'
const TX = 'tx1.airquality._device.example.test'
const rows: Record<string, unknown>[] = []

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
const r2 = (x: number): number => Math.round(x * 100) / 100
function pct(values: number[], p: number): number {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  return r2(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN)
}

function row(r: Record<string, unknown>): void {
  rows.push(r)
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`)
}

interface Side {
  proc: ChildProcess
  ready: Promise<void>
  result: Promise<{ cpuMsPerMsg: number; rate?: number; times: number[][] }>
}

function side(args: SideArgs, env: NodeJS.ProcessEnv): Side {
  const proc = spawn(process.execPath, [join(self, 'e2e-sides.js'), JSON.stringify(args)], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  proc.stdout?.resume() // listen's JSON lines: read and dropped, as a consumer of `daneel listen` would
  let err = ''
  let ready: () => void = () => {}
  const readyP = new Promise<void>((r) => (ready = r))
  const result = new Promise<Side['result'] extends Promise<infer T> ? T : never>((resolve, reject) => {
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString()
      if (err.includes('READY\n')) ready()
    })
    proc.on('close', (code) => {
      if (code === 0 && existsSync(args.resultPath)) resolve(JSON.parse(readFileSync(args.resultPath, 'utf8')))
      else reject(new Error(`${args.role} ${args.impl} exited ${code}: ${err.slice(-2000)}`))
    })
  })
  return { proc, ready: readyP, result }
}

async function pair(impl: 'daneel' | 'plain', rate: number, base: SideArgs, env: NodeJS.ProcessEnv, tag: string): Promise<void> {
  const total = rate * SECONDS
  const loadBefore = load()
  const args = { ...base, impl, rate, total }
  const rx = side({ ...args, role: 'receiver', state: join(base.state, `${tag}-rx`), resultPath: join(base.state, `${tag}-rx.json`) }, env)
  await Promise.race([rx.ready, rx.result])
  const tx = side({ ...args, role: 'sender', state: join(base.state, `${tag}-tx`), resultPath: join(base.state, `${tag}-tx.json`) }, env)
  const [t, r] = await Promise.all([tx.result, rx.result])
  const seg = (f: (i: number) => number): string => {
    const v = Array.from({ length: total }, (_, i) => f(i))
    return `${pct(v, 50)}/${pct(v, 99)}`
  }
  const T = (i: number): number[] => t.times[i] as number[]
  const R = (i: number): number[] => r.times[i] as number[]
  const common = {
    bench: 'e2e',
    rate,
    messages: total,
    achievedRate: Math.round(t.rate ?? 0),
    cpuMsPerMsgSender: r2(t.cpuMsPerMsg),
    cpuMsPerMsgReceiver: r2(r.cpuMsPerMsg),
    cpuMsPerMsgTotal: r2(t.cpuMsPerMsg + r.cpuMsPerMsg),
    broker: `mosquitto, persistence ${persistence ? 'true, autosave_interval 1' : 'false'}`,
    load: `${loadBefore} -> ${load()}`,
  }
  if (impl === 'plain') {
    row({
      case: `peer: plain MQTT.js QoS 1, window 20, same bytes, ${rate} msg/s`,
      ...common,
      e2eMs: seg((i) => (R(i)[0] as number) - (T(i)[0] as number)),
      segments: {
        publish: seg((i) => (T(i)[1] as number) - (T(i)[0] as number)),
        broker: seg((i) => (R(i)[0] as number) - (T(i)[1] as number)),
      },
    })
    return
  }
  const d = (a: number[], x: number, b: number[], y: number): number => (b[y] as number) - (a[x] as number)
  row({
    case: `daneel: seal -> disk outbox -> Mosquitto -> listen pipeline, ${rate} msg/s`,
    ...common,
    e2eMs: seg((i) => d(T(i), 0, R(i), 3)),
    segments: {
      seal: seg((i) => d(T(i), 0, T(i), 1)),
      outbox: seg((i) => d(T(i), 1, T(i), 2)),
      publish: seg((i) => d(T(i), 2, T(i), 3)),
      broker: seg((i) => d(T(i), 3, R(i), 0)),
      receiverQueue: seg((i) => d(R(i), 0, R(i), 1)),
      open: seg((i) => d(R(i), 1, R(i), 2)),
      output: seg((i) => d(R(i), 2, R(i), 3)),
      ack: seg((i) => d(R(i), 3, R(i), 4)),
    },
  })
}

/** Outbox appends/s under each fsync policy (payload of a sealed reading's size), 16 appenders at once. */
async function outboxRows(dir: string, payload: Buffer): Promise<void> {
  for (const sync of ['always', 'interval'] as const) {
    const box = await openOutbox(join(dir, `fsync-${sync}`), { sync, syncIntervalMs: 1000 })
    const total = quick ? 5_000 : 20_000
    const start = process.hrtime.bigint()
    for (let i = 0; i < total; i += 16) await Promise.all(Array.from({ length: 16 }, () => box.append('t', payload)))
    const secs = Number(process.hrtime.bigint() - start) / 1e9
    row({
      bench: 'outbox',
      case: `append, sync=${sync}${sync === 'always' ? ' (group commit: durable before resolve)' : ' (fdatasync every 1 s)'}`,
      appends: total,
      appendsPerSec: Math.round(total / secs),
      fdatasyncs: box.stats().syncs,
      load: load(),
    })
    await box.close()
  }
}

async function main(): Promise<void> {
  const tmp = makeTempDir('daneel-bench-e2e-')
  const lab = await startDnsLab()
  let broker: Mosquitto | undefined
  try {
    const cryptoPath = join(tmp.dir, 'crypto')
    for (const name of [RX, TX]) {
      const cert = createIdentity({ cryptoPath, daneId: name }).cert
      if (cert === undefined) throw new Error('no certificate')
      await lab.setRecords('example.test.', name.replace(/\.example\.test$/, ''), 'TLSA', [formatTlsaRdata(makeTlsaRecord(cert, 3, 1, 0))])
    }
    broker = await startMosquitto({ dir: join(tmp.dir, 'broker'), persistence, maxQueuedMessages: 0 })
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      DNS_SERVER: lab.server,
      DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
      CRYPTO_PATH: cryptoPath,
      MQTT_URL: broker.url,
      TRUSTED_DOMAINS: 'example.test',
      DANE_ID: RX,
      DANEEL_STATE: join(tmp.dir, 'state'),
    }
    const sealer = createSealer({
      provider: getProvider('node'),
      senderName: TX,
      senderKey: loadIdentity(cryptoPath, TX).privateKey,
      recipientName: RX,
      recipientSpki: new Uint8Array(createPublicKey(loadIdentity(cryptoPath, RX).privateKey).export({ type: 'spki', format: 'der' })),
    })
    const sample = Buffer.from(sealer.seal({ n: 0, t: Date.now() }, { now: Date.now(), seq: 0 }))
    const base = {
      url: broker.url,
      cryptoPath,
      state: tmp.dir,
      rx: RX,
      tx: TX,
      sampleB64: sample.toString('base64'),
    } as SideArgs
    process.stderr.write(
      `bench e2e: broker ${persistence ? 'persistence true (autosave_interval 1)' : 'persistence false'}; ${sample.length} B per message; load ${load()}\n`,
    )
    for (const rate of rates) {
      await pair('plain', rate, base, env, `plain-${rate}`)
      await pair('daneel', rate, base, env, `daneel-${rate}`)
    }
    await outboxRows(tmp.dir, sample)
  } finally {
    await broker?.stop()
    await lab.stop()
    tmp.cleanup()
  }
  if (!json) {
    for (const r of rows) {
      const { bench, case: c, segments, ...rest } = r
      process.stdout.write(`${String(bench).padEnd(7)} ${String(c)}\n`)
      process.stdout.write(
        `        ${Object.entries(rest)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join('  ')}\n`,
      )
      if (segments !== undefined)
        process.stdout.write(
          `        p50/p99 ms: ${Object.entries(segments as object)
            .map(([k, v]) => `${k} ${String(v)}`)
            .join(' | ')}\n`,
        )
    }
  }
}

main().catch((err) => {
  process.stderr.write(`bench e2e failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exitCode = 1
})
