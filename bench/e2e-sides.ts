/** bench/e2e's child processes: a paced sender and a receiver, daneel or plain MQTT.js, each timing its segments and its CPU. */
import { createPublicKey } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { jsonLineSink } from '../messaging/line-sink.js'
import { MqttLink } from '../messaging/mqtt.js'
import { openOutbox } from '../messaging/outbox.js'
import { attachReceiver, directoryResolver, Receiver } from '../messaging/receiver.js'
import { openReplayStore } from '../messaging/replay-store.js'
import { OutboxSender } from '../messaging/sender.js'
import { peerDirectory } from '../settings/peers.js'
import { DEFAULT_MAX_MESSAGE_SIZE, resolveSettings } from '../settings/settings.js'
import { systemClock } from '../src/clock.js'
import { getProvider } from '../src/crypto/get-provider.js'
import { loadIdentity } from '../src/identity/store.js'
import { silentLogger } from '../src/log.js'
import { createOpener, type OpenedMessage } from '../src/message/open.js'
import { createSealer } from '../src/message/seal.js'

/*
 * Clocks: every timestamp is performance.timeOrigin + performance.now(), wall-clock milliseconds with
 * microsecond resolution, comparable across the two processes on one machine. CPU: process.cpuUsage() from the
 * first message to the last, divided by the messages (user + system, so MQTT.js and the kernel's socket work
 * are counted). Results go to `resultPath` as JSON; a receiver prints `READY` on stderr once subscribed.
 */
export interface SideArgs {
  role: 'sender' | 'receiver'
  impl: 'daneel' | 'plain'
  url: string
  total: number
  rate: number
  /** daneel: identities and state */
  cryptoPath: string
  state: string
  rx: string
  tx: string
  /** plain: the bytes to carry (a sealed reading of the daneel run's size) */
  sampleB64: string
  /** where the side writes its result (JSON) */
  resultPath: string
}

const now = (): number => performance.timeOrigin + performance.now()
const a = JSON.parse(process.argv[2] ?? '{}') as SideArgs
/** The result goes to a file (a pipe would drop the tail of a large line at exit). */
const result = (r: object): void => writeFileSync(a.resultPath, JSON.stringify(r))
const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000

/** Waits until message `i` is due: start + i/rate, evenly spaced (the timer's own lateness is caught up, not skipped). */
async function pace(start: number, i: number, rate: number): Promise<void> {
  const due = start + (i * 1000) / rate
  const wait = due - now()
  if (wait > 0.5) await new Promise((r) => setTimeout(r, Math.floor(wait)))
  else await new Promise((r) => setImmediate(r)) // behind: catch up, but let I/O (PUBACKs, writes) run between messages
}

async function daneelSender(a: SideArgs): Promise<void> {
  const sealer = createSealer({
    provider: getProvider('node'),
    senderName: a.tx,
    senderKey: loadIdentity(a.cryptoPath, a.tx).privateKey,
    recipientName: a.rx,
    recipientSpki: new Uint8Array(createPublicKey(loadIdentity(a.cryptoPath, a.rx).privateKey).export({ type: 'spki', format: 'der' })),
  })
  const box = await openOutbox(a.state)
  const link = new MqttLink({ url: a.url, clientId: `bench-tx-${process.pid}`, maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE })
  const sender = new OutboxSender(link, box, { window: 20 })
  // per message: seal start, seal end (= append), handed to publish (take), written to the socket
  const t = Array.from({ length: a.total }, () => [0, 0, 0, 0])
  const nOfId = new Map<number, number>()
  const nOfPayload = new WeakMap<object, number>()
  const taken = (got: readonly { id: number; payload: Buffer }[] | undefined): void => {
    const at = now()
    for (const e of got ?? []) {
      const n = nOfId.get(e.id)
      if (n === undefined) continue
      ;(t[n] as number[])[2] = at
      nOfPayload.set(e.payload, n)
    }
  }
  const take = box.take.bind(box)
  box.take = async (max) => {
    const got = await take(max)
    taken(got)
    return got
  }
  const takeFromMemory = box.takeFromMemory.bind(box)
  box.takeFromMemory = (max) => {
    const got = takeFromMemory(max)
    taken(got)
    return got
  }
  link.once('up', () => {
    // the sender writes each payload to the socket itself (messaging/publish-frame.ts): time that write
    const stream = (link.client as unknown as { stream: { write: (chunk: unknown, ...rest: unknown[]) => boolean } }).stream
    const write = stream.write.bind(stream)
    stream.write = (chunk, ...rest) => {
      const n = nOfPayload.get(chunk as object)
      if (n !== undefined) (t[n] as number[])[3] = now()
      return write(chunk, ...rest)
    }
  })
  link.start()
  await new Promise((r) => link.once('up', r))
  const cpu0 = process.cpuUsage()
  const start = now()
  const stored: Promise<number>[] = []
  for (let n = 0; n < a.total; n++) {
    await pace(start, n, a.rate)
    const row = t[n] as number[]
    row[0] = now()
    const sealed = sealer.seal({ n, t: row[0] }, { now: Date.now(), seq: box.nextId })
    row[1] = now()
    nOfId.set(box.nextId, n)
    stored.push(box.append(a.rx, Buffer.from(sealed)))
  }
  await Promise.all(stored)
  await sender.drained(120_000)
  const cpu = cpuMs(process.cpuUsage(cpu0))
  const secs = (now() - start) / 1000
  await link.stop()
  await box.close()
  result({ cpuMsPerMsg: cpu / a.total, rate: a.total / secs, times: t })
}

async function plainSender(a: SideArgs): Promise<void> {
  const sample = Buffer.from(a.sampleB64, 'base64')
  const pub = await mqtt.connectAsync(a.url, { protocolVersion: 5, clientId: `plain-tx-${process.pid}` })
  const t = Array.from({ length: a.total }, () => [0, 0])
  pub.on('packetsend', (p) => {
    if (p.cmd === 'publish') (t[(p.payload as Buffer).readUInt32BE(0)] as number[])[1] = now()
  })
  let inFlight = 0
  let room: (() => void) | undefined
  const cpu0 = process.cpuUsage()
  const start = now()
  for (let n = 0; n < a.total; n++) {
    await pace(start, n, a.rate)
    while (inFlight >= 20) await new Promise<void>((r) => (room = r)) // the same window as OutboxSender
    const b = Buffer.from(sample) // a fresh buffer per message, as a sealer would produce
    b.writeUInt32BE(n, 0)
    ;(t[n] as number[])[0] = now()
    inFlight++
    pub.publish('plain/t', b, { qos: 1 }, () => {
      inFlight--
      room?.()
    })
  }
  while (inFlight > 0) await new Promise<void>((r) => (room = r))
  const cpu = cpuMs(process.cpuUsage(cpu0))
  const secs = (now() - start) / 1000
  await pub.endAsync()
  result({ cpuMsPerMsg: cpu / a.total, rate: a.total / secs, times: t })
}

/** listen's pipeline (cli/commands/listen.ts), assembled from the same parts, with timing wrappers around them. */
async function daneelReceiver(a: SideArgs): Promise<void> {
  const settings = resolveSettings({}, process.env)
  const directory = peerDirectory(settings, silentLogger)
  const replay = openReplayStore(join(a.state, 'replay'))
  const opener = createOpener({
    provider: getProvider(settings.cryptoProvider),
    recipientName: a.rx,
    recipientKey: loadIdentity(a.cryptoPath, a.rx).privateKey,
    resolveSender: directoryResolver(directory, settings.trustedDomains),
    trustedDomains: settings.trustedDomains,
    maxMessageSize: settings.maxMessageSize,
    clock: systemClock,
    replay,
    deferReplay: true,
  })
  // per message: received (MQTT.js handed it over), open start, open end, output written, PUBACK sent
  const t = Array.from({ length: a.total }, () => [0, 0, 0, 0, 0])
  const got = new WeakMap<object, number[]>()
  const opening = new WeakMap<object, number[]>()
  let cpu0: NodeJS.CpuUsage | undefined
  let done = 0
  let finished: () => void = () => {}
  const all = new Promise<void>((r) => (finished = r))
  const lines = jsonLineSink(process.stdout)
  const receiver = new Receiver({
    opener: {
      open: async (bytes) => {
        const rec = got.get(bytes as Buffer) ?? [0, 0, 0, 0, 0]
        rec[1] = now()
        const m = await opener.open(bytes)
        rec[2] = now()
        opening.set(m, rec)
        return m
      },
    },
    sink: {
      deliver: async (m: OpenedMessage, raw, receivedAt) => {
        await lines.deliver(m, raw, receivedAt)
        const rec = opening.get(m) ?? [0, 0, 0, 0, 0]
        rec[3] = now()
        const n = (m.reading as { n: number }).n
        t[n] = rec
      },
    },
    replay,
    maxMessageSize: settings.maxMessageSize,
  })
  const push = receiver.push.bind(receiver)
  receiver.push = (payload, ack) => {
    cpu0 ??= process.cpuUsage()
    const rec = [now(), 0, 0, 0, 0]
    got.set(payload as Buffer, rec)
    return push(payload, () => {
      rec[4] = now()
      ack()
      if (++done === a.total) finished()
    })
  }
  const link = new MqttLink({ url: a.url, clientId: `bench-rx-${process.pid}`, maxMessageSize: settings.maxMessageSize })
  attachReceiver(link, a.rx, receiver)
  link.start()
  await new Promise((r) => link.once('up', () => setTimeout(r, 200)))
  process.stderr.write('READY\n')
  await all
  const cpu = cpuMs(process.cpuUsage(cpu0))
  await link.stop()
  await replay.close()
  result({ cpuMsPerMsg: cpu / a.total, times: t })
}

async function plainReceiver(a: SideArgs): Promise<void> {
  const sub = await mqtt.connectAsync(a.url, { protocolVersion: 5, clientId: `plain-rx-${process.pid}` })
  const t = Array.from({ length: a.total }, () => [0])
  let cpu0: NodeJS.CpuUsage | undefined
  let done = 0
  const all = new Promise<void>((resolve) =>
    sub.on('message', (_topic, p) => {
      cpu0 ??= process.cpuUsage()
      ;(t[p.readUInt32BE(0)] as number[])[0] = now()
      if (++done === a.total) resolve()
    }),
  )
  await sub.subscribeAsync('plain/t', { qos: 1 })
  process.stderr.write('READY\n')
  await all
  const cpu = cpuMs(process.cpuUsage(cpu0))
  await sub.endAsync()
  result({ cpuMsPerMsg: cpu / a.total, times: t })
}

const run = a.role === 'sender' ? (a.impl === 'daneel' ? daneelSender : plainSender) : a.impl === 'daneel' ? daneelReceiver : plainReceiver
run(a).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`side failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  },
)
