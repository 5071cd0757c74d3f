/** bench/e2e: sealed readings send→receive through Mosquitto on loopback (1 and 2 `daneel listen`), vs plain MQTT.js; outbox fsync cost; receiver memory. */
import { type ChildProcess, spawn } from 'node:child_process'
import { createPublicKey } from 'node:crypto'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { Backoff } from '../messaging/backoff.js'
import { MqttLink } from '../messaging/mqtt.js'
import { openOutbox } from '../messaging/outbox.js'
import { OutboxSender } from '../messaging/sender.js'
import { DEFAULT_MAX_MESSAGE_SIZE } from '../settings/settings.js'
import { getProvider } from '../src/crypto/get-provider.js'
import { formatTlsaRdata, makeTlsaRecord } from '../src/dane/tlsa.js'
import { createIdentity, loadIdentity } from '../src/identity/store.js'
import { createSealer, type Sealer } from '../src/message/seal.js'
import { startDnsLab } from '../testkit/dns-lab.js'
import { type Mosquitto, startMosquitto } from '../testkit/mosquitto.js'
import { cliPath, makeTempDir } from '../testkit/paths.js'

const json = process.argv.includes('--json')
const quick = process.argv.includes('--quick')
const N = quick ? 5_000 : 20_000
const MEM_N = quick ? 20_000 : 100_000
const RX = 'rx.gateway._device.example.test'
const TX = 'tx1.airquality._device.example.test'
const rows: Record<string, unknown>[] = []

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

function row(r: Record<string, unknown>): void {
  rows.push(r)
  process.stderr.write(`bench e2e: ${String(r.case)} done\n`)
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`)
}

interface Rx {
  proc: ChildProcess
  count: number
  latencies: number[]
  lastAt: number
  stats(): Promise<Record<string, unknown>>
}

function startListen(env: NodeJS.ProcessEnv, args: string[], state: string): Promise<Rx> {
  // --expose-gc: the stats line then reports memory after a full collection (growth, not garbage)
  const proc = spawn(process.execPath, ['--expose-gc', cliPath, 'listen', ...args], {
    env: { ...env, DANEEL_STATE: state, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const rx: Rx = { proc, count: 0, latencies: [], lastAt: 0, stats: () => Promise.resolve({}) }
  let buf = ''
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString()
    const now = Date.now()
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      const t = (JSON.parse(line) as { reading: { t: number } }).reading.t
      rx.count++
      rx.lastAt = now
      if (rx.latencies.length < 1_000_000) rx.latencies.push(now - t)
    }
  })
  let err = ''
  const waiters: ((s: Record<string, unknown>) => void)[] = []
  let partial = ''
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
    // a stats line can arrive in two chunks: only whole lines are parsed
    const parts = (partial + d.toString()).split('\n')
    partial = parts.pop() ?? ''
    for (const l of parts) {
      if (l.startsWith('{"stats"')) for (const w of waiters.splice(0)) w((JSON.parse(l) as { stats: Record<string, unknown> }).stats)
    }
  })
  rx.stats = () =>
    new Promise((resolve) => {
      waiters.push(resolve)
      proc.kill('SIGUSR1')
    })
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (err.includes('subscribed')) {
        clearInterval(t)
        resolve(rx)
      } else if (proc.exitCode !== null) {
        clearInterval(t)
        reject(new Error(`listen exited: ${err}`))
      }
    }, 20)
  })
}

async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return
  const done = new Promise((r) => p.once('exit', r))
  p.kill('SIGTERM')
  await done
}

/** Seals {n, t} readings into a disk outbox drained over MQTT; `rate` per second, 0 = as fast as possible. */
async function stream(broker: Mosquitto, sealer: Sealer, state: string, total: number, rate: number, clientId: string): Promise<number> {
  const box = await openOutbox(state)
  const link = new MqttLink({
    url: broker.url,
    clientId,
    maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
    backoff: new Backoff({ baseMs: 50, capMs: 1000, minMs: 20 }),
  })
  const sender = new OutboxSender(link, box, { window: 20 })
  link.start()
  const start = Date.now()
  const perTick = rate === 0 ? 50 : Math.max(1, Math.round(rate / 100))
  let sent = 0
  while (sent < total) {
    const batch: Promise<number>[] = []
    for (let k = 0; k < perTick && sent < total; k++, sent++) {
      batch.push(box.append(RX, Buffer.from(sealer.seal({ n: sent, t: Date.now() }, { now: Date.now(), seq: box.nextId }))))
    }
    await Promise.all(batch)
    if (rate > 0) {
      const due = start + (sent / rate) * 1000
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()))
    } else if (box.pending > 2000) {
      await new Promise((r) => setTimeout(r, 1)) // keep the outbox from growing without bound while saturated
    }
  }
  await sender.drained(120_000)
  await link.stop()
  await box.close()
  return start
}

async function waitCount(rxs: Rx[], total: number, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (rxs.reduce((a, r) => a + r.count, 0) < total) {
    if (Date.now() > end) throw new Error(`only ${rxs.reduce((a, r) => a + r.count, 0)} of ${total} arrived`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function e2eRow(
  name: string,
  broker: Mosquitto,
  env: NodeJS.ProcessEnv,
  sealer: Sealer,
  dir: string,
  receivers: number,
  total: number,
  rate: number,
  tag: string,
): Promise<void> {
  const rxs: Rx[] = []
  for (let i = 0; i < receivers; i++) {
    const args = receivers > 1 ? ['--share', 'bench', '--client-id', `${tag}-${i}`] : ['--client-id', `${tag}-0`]
    rxs.push(await startListen(env, args, join(dir, `${tag}-rx${i}`)))
  }
  const start = await stream(broker, sealer, join(dir, `${tag}-outbox`), total, rate, `${tag}-tx`)
  await waitCount(rxs, total, 120_000)
  const last = Math.max(...rxs.map((r) => r.lastAt))
  const lat = rxs.flatMap((r) => r.latencies).sort((a, b) => a - b)
  row({
    bench: 'e2e',
    case: name,
    receivers,
    messages: total,
    offeredRate: rate === 0 ? 'max' : rate,
    msgPerSec: Math.round((total / (last - start)) * 1000),
    p50Ms: pct(lat, 50),
    p99Ms: pct(lat, 99),
    split: rxs.map((r) => r.count).join('/'),
  })
  for (const r of rxs) await stopProc(r.proc)
}

/** The named peer: plain MQTT.js QoS 1 publish → subscribe of the same bytes, no seal, no open, no outbox. */
async function plainRow(broker: Mosquitto, payload: Buffer, total: number): Promise<void> {
  const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'plain-sub' })
  const lat: number[] = []
  let last = 0
  sub.on('message', (_t, p) => {
    last = Date.now()
    lat.push(last - p.readDoubleBE(0))
  })
  await sub.subscribeAsync('plain/t', { qos: 1 })
  const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'plain-pub' })
  const start = Date.now()
  const window = 20
  let inFlight = 0
  let sent = 0
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (inFlight < window && sent < total) {
        const b = Buffer.from(payload)
        b.writeDoubleBE(Date.now(), 0)
        inFlight++
        sent++
        pub.publish('plain/t', b, { qos: 1 }, () => {
          inFlight--
          if (sent >= total && inFlight === 0) resolve()
          else pump()
        })
      }
    }
    pump()
  })
  while (lat.length < total) await new Promise((r) => setTimeout(r, 10))
  lat.sort((a, b) => a - b)
  row({
    bench: 'e2e',
    case: 'peer: plain MQTT.js QoS 1, same bytes, window 20 (no seal/open/outbox)',
    receivers: 1,
    messages: total,
    offeredRate: 'max',
    msgPerSec: Math.round((total / (last - start)) * 1000),
    p50Ms: pct(lat, 50),
    p99Ms: pct(lat, 99),
    split: String(total),
  })
  await pub.endAsync()
  await sub.endAsync()
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
      case: `append, sync=${sync}${sync === 'always' ? ' (group commit: durable before resolve; zero loss window)' : ' (fdatasync every 1 s: up to 1 s lost on power cut)'}`,
      appends: total,
      appendsPerSec: Math.round(total / secs),
      fdatasyncs: box.stats().syncs,
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
      const id = createIdentity({ cryptoPath, daneId: name })
      await lab.setRecords('example.test.', name.replace(/\.example\.test$/, ''), 'TLSA', [
        formatTlsaRdata(makeTlsaRecord(id.cert!, 3, 1, 0)),
      ])
    }
    broker = await startMosquitto({ dir: join(tmp.dir, 'broker') })
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      DNS_SERVER: lab.server,
      DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
      CRYPTO_PATH: cryptoPath,
      MQTT_URL: broker.url,
      TRUSTED_DOMAINS: 'example.test',
      DANE_ID: RX,
    }
    const rxSpki = new Uint8Array(createPublicKey(loadIdentity(cryptoPath, RX).privateKey).export({ type: 'spki', format: 'der' }))
    const sealer = createSealer({
      provider: getProvider('node'),
      senderName: TX,
      senderKey: loadIdentity(cryptoPath, TX).privateKey,
      recipientName: RX,
      recipientSpki: rxSpki,
    })
    const sample = Buffer.from(sealer.seal({ n: 0, t: Date.now() }, { now: Date.now(), seq: 0 }))

    await plainRow(broker, sample, N)
    await e2eRow('daneel: seal → disk outbox → Mosquitto → listen (open, DANE lookup cached)', broker, env, sealer, tmp.dir, 1, N, 0, 'one')
    await e2eRow('daneel: same, two listen --share receivers', broker, env, sealer, tmp.dir, 2, N, 0, 'two')
    await e2eRow('daneel: paced 1,000 msg/s, one receiver', broker, env, sealer, tmp.dir, 1, quick ? 3_000 : 10_000, 1000, 'paced')
    await outboxRows(tmp.dir, sample)

    // Receiver memory over MEM_N messages: stats (after a forced GC) at checkpoints.
    const rx = await startListen(env, ['--client-id', 'mem-0'], join(tmp.dir, 'mem-rx'))
    const checkpoints = [0.2, 0.4, 0.6, 0.8, 1].map((f) => Math.round(f * MEM_N))
    const mem: string[] = []
    let heap0 = 0
    let heapEnd = 0
    let rssEnd = 0
    const sending = stream(broker, sealer, join(tmp.dir, 'mem-outbox'), MEM_N, 0, 'mem-tx')
    for (const c of checkpoints) {
      await waitCount([rx], c, 300_000)
      const s = (await rx.stats()) as { memory: { rss: number; heapUsed: number } }
      const mb = (b: number): number => Math.round((b / 1048576) * 10) / 10
      mem.push(`${c / 1000}k: heap ${mb(s.memory.heapUsed)} MB, rss ${mb(s.memory.rss)} MB`)
      if (heap0 === 0) heap0 = s.memory.heapUsed
      heapEnd = s.memory.heapUsed
      rssEnd = s.memory.rss
    }
    await sending
    row({
      bench: 'receiver-memory',
      case: `one listen process over ${MEM_N} messages (heap after full GC)`,
      checkpoints: mem.join('; '),
      heapGrowthMB: Math.round(((heapEnd - heap0) / 1048576) * 10) / 10,
      rssMB: Math.round((rssEnd / 1048576) * 10) / 10,
    })
    await stopProc(rx.proc)
  } finally {
    await broker?.stop()
    await lab.stop()
    tmp.cleanup()
  }
  if (!json) {
    for (const r of rows) {
      const { bench, case: c, ...rest } = r
      process.stdout.write(
        `${String(bench).padEnd(16)} ${String(c)}\n${' '.repeat(17)}${Object.entries(rest)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join('  ')}\n`,
      )
    }
  }
}

main().catch((err) => {
  process.stderr.write(`bench e2e failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exitCode = 1
})
