/** bench/device's measured pipelines, run in a child process with the systemd unit's Node flags: ours, and jose + MQTT.js's store. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GCProfiler } from 'node:v8'
import mqtt from 'mqtt'
import { DeviceLoop } from '../device/loop.js'
import { MqttLink } from '../messaging/mqtt.js'
import { openOutbox } from '../messaging/outbox.js'
import { OutboxSender } from '../messaging/sender.js'
import { openSequence } from '../messaging/sequence.js'
import { FakeClock } from '../sensors/fakes/fake-clock.js'
import { FakeUart } from '../sensors/fakes/fake-uart.js'
import { encodePmsFrame } from '../sensors/fakes/pms5003-emulator.js'
import { Pms5003 } from '../sensors/pms5003/pms5003.js'
import { Readings } from '../sensors/readings.js'
import { DEFAULT_MAX_MESSAGE_SIZE } from '../settings/settings.js'
import { systemClock } from '../src/clock.js'
import { getProvider } from '../src/crypto/get-provider.js'
import { silentLogger } from '../src/log.js'
import { createSealer } from '../src/message/seal.js'

const SENDER = 'bench1.airquality._device.example.com'
const RECIPIENT = 'gateway._device.example.com'
/**
 * Readings allowed to wait for PUBACK before the producer yields. Steady state on a device means an outbox that
 * does not grow (a reading every few seconds, PUBACK in milliseconds), so the bench keeps it near the in-flight
 * window (20) rather than letting thousands pile up: DiskOutbox.take() walks the pending map from its start, so
 * its cost grows with the backlog (measured: 53 KiB/reading at a 2000 backlog).
 */
const MAX_QUEUED = 64

/** 64 distinct realistic PMS5003 frames, built once. */
function frames(): Uint8Array[] {
  return Array.from({ length: 64 }, (_, i) => {
    const pm25 = 5 + (i % 30)
    return encodePmsFrame({
      pm1Cf1: pm25 - 2,
      pm25Cf1: pm25,
      pm10Cf1: pm25 + 4,
      pm1: pm25 - 2,
      pm25,
      pm10: pm25 + 4,
      n03: pm25 * 26,
      n05: pm25 * 9,
      n1: pm25 * 5,
      n25: pm25,
      n5: 1,
      n10: 0,
    })
  })
}

/** Heap bytes allocated while `fn` runs: growth of used heap plus everything each GC in between freed. */
export async function measureAllocated(fn: () => Promise<void>): Promise<number> {
  const prof = new GCProfiler()
  const before = process.memoryUsage().heapUsed
  prof.start()
  await fn()
  const after = process.memoryUsage().heapUsed
  const data = prof.stop() as {
    statistics: Array<{ beforeGC: { heapStatistics: { usedHeapSize: number } }; afterGC: { heapStatistics: { usedHeapSize: number } } }>
  }
  let freed = 0
  for (const s of data.statistics) freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize
  return after - before + freed
}

const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r))
/**
 * Waits for the pipeline to catch up with a 2 ms timer, not setImmediate: spinning on setImmediate while the
 * broker's PUBACKs are in flight allocates a promise per turn, thousands per reading, and that harness garbage
 * would be counted as the pipeline's (measured: a raw MQTT.js QoS 1 publish "cost" 269 KB that way).
 */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 2))

export interface Pipeline {
  /** Feeds `n` frames through; resolves when all are published and acknowledged. */
  run(n: number, onProgress?: (done: number) => void): Promise<void>
  close(): Promise<void>
}

function keys(): { senderKey: KeyObject; recipientPub: KeyObject } {
  const s = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const r = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { senderKey: s.privateKey, recipientPub: r.publicKey }
}

/** How far down our pipeline a run goes: the allocation breakdown stops earlier; 'full' is the real thing. */
export type Stage = 'loop' | 'outbox' | 'full'

/**
 * Duty cycling as a deployed PM sensor runs it (device/duty.ts): a 60 s interval, 30 s warm-up, 10 s window of
 * one-second samples, asleep for the other 20 s. The chip streams a frame a second while awake (warm-up frames are
 * decoded and discarded, as on a real line), so each reading costs 40 frames, a wake, a sleep and one window reading.
 */
export const DUTY = { intervalMs: 60_000, warmupMs: 30_000, windowMs: 10_000 }

/**
 * Ours: frame -> PMS5003 driver -> DeviceLoop -> createSealer -> DiskOutbox -> OutboxSender -> MqttLink (QoS 1).
 * 'loop' stops after sealing (appends go nowhere); 'outbox' stops after the disk append (nothing published).
 */
export async function daneelPipeline(mqttUrl: string, stage: Stage = 'full', duty = false): Promise<Pipeline> {
  const dir = mkdtempSync(join(tmpdir(), 'daneel-bench-device-'))
  const { senderKey, recipientPub } = keys()
  const clock = new FakeClock(0)
  const uart = new FakeUart()
  const driver = new Pms5003(uart, clock, { id: 'pm', warmupMs: duty ? DUTY.warmupMs : 0, timeoutMs: 3_600_000 })
  const sealer = createSealer({
    provider: getProvider('node'),
    senderName: SENDER,
    senderKey,
    recipientName: RECIPIENT,
    recipientSpki: new Uint8Array(recipientPub.export({ type: 'spki', format: 'der' })),
  })
  // 'interval' sync: at full speed an fdatasync per group commit would measure the disk, not the pipeline.
  const outbox = await openOutbox(join(dir, 'outbox'), { sync: 'interval', syncIntervalMs: 1000, maxBytes: 256 * 1024 * 1024 })
  const link = new MqttLink({ url: mqttUrl, clientId: `bench-${process.pid}`, maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE })
  const sender = new OutboxSender(link, outbox, { window: 20 })
  if (stage === 'full') {
    const up = new Promise<void>((r) => link.once('up', () => r()))
    link.start()
    await up
  }
  const nowhere = { append: (): undefined => undefined }
  const loop = new DeviceLoop({
    sensors: [
      duty
        ? { driver, intervalMs: DUTY.intervalMs, duty: { warmupMs: DUTY.warmupMs, windowMs: DUTY.windowMs } }
        : { driver, intervalMs: 1000 },
    ],
    recipients: [{ name: RECIPIENT, sealer }],
    outbox: stage === 'loop' ? nowhere : outbox,
    sequence: openSequence(join(dir, 'seq.json'), 1000),
    clock: systemClock,
    timers: clock,
    log: silentLogger,
    statusIntervalMs: 0,
  })
  loop.start()
  const fs = frames()
  const awakeS = (DUTY.warmupMs + DUTY.windowMs) / 1000
  let f = 0
  /** One duty cycle: a frame a second while awake (the window closes and the reading goes out at its end), then asleep. */
  const cycle = (): void => {
    for (let s = 0; s < awakeS; s++) {
      uart.deliver(fs[f++ & 63] as Uint8Array)
      clock.advance(1000)
    }
    clock.advance(DUTY.intervalMs - awakeS * 1000)
  }
  return {
    async run(n, onProgress) {
      for (let i = 0; i < n; i++) {
        if (duty) cycle()
        else {
          uart.deliver(fs[i & 63] as Uint8Array) // the frame arrives on the serial line...
          clock.advance(1000) // ...and the loop's next tick samples, seals and appends it
        }
        if ((i & 63) === 63) {
          await yieldNow()
          while ((stage === 'full' && outbox.pending > MAX_QUEUED) || loop.pendingAppends > MAX_QUEUED) await settle()
        }
        if (onProgress !== undefined && i % 50_000 === 0) onProgress(i)
      }
      if (stage === 'full') await sender.drained(60_000)
      else while (loop.pendingAppends > 0) await settle()
    },
    async close() {
      loop.stop()
      if (stage === 'full') await link.stop()
      await outbox.close()
      rmSync(dir, { recursive: true, force: true })
      void sender
    },
  }
}

/** The peer: the same frames decoded by the same driver, sealed with jose (ES256 JWS in ECDH-ES JWE), published by MQTT.js with its own store. */
export async function josePipeline(mqttUrl: string): Promise<Pipeline> {
  // Loaded only here, so the soak's RSS is that of what a device loads.
  const { CompactEncrypt, CompactSign } = await import('jose')
  const { senderKey, recipientPub } = keys()
  const clock = new FakeClock(0)
  const uart = new FakeUart()
  const driver = new Pms5003(uart, clock, { id: 'pm', warmupMs: 0, timeoutMs: 3_600_000 })
  driver.start()
  const out = new Readings()
  const client = mqtt.connect(mqttUrl, { clientId: `bench-jose-${process.pid}`, protocolVersion: 5 })
  await new Promise<void>((r) => client.once('connect', () => r()))
  const enc = new TextEncoder()
  const header = { alg: 'ES256', x5u: `dns://${SENDER}?type=TLSA` }
  let inflight = 0
  const done = (): void => {
    inflight--
  }
  const fs = frames()
  let seq = 0
  return {
    async run(n, onProgress) {
      for (let i = 0; i < n; i++) {
        uart.deliver(fs[i & 63] as Uint8Array)
        clock.advance(1000)
        out.clear()
        if (driver.sample(out) !== 'fresh') continue
        const claims = {
          aud: RECIPIENT,
          iat: Math.floor(Date.now() / 1000),
          seq: seq++,
          r: {
            sensor: 'pm',
            model: 'pms5003',
            values: {
              pm1: out.pm1,
              pm25: out.pm25,
              pm10: out.pm10,
              pm1Cf1: out.pm1Cf1,
              pm25Cf1: out.pm25Cf1,
              pm10Cf1: out.pm10Cf1,
              n03: out.n03,
              n05: out.n05,
              n1: out.n1,
              n25: out.n25,
              n5: out.n5,
              n10: out.n10,
            },
          },
        }
        const jws = await new CompactSign(enc.encode(JSON.stringify(claims))).setProtectedHeader(header).sign(senderKey)
        const jwe = await new CompactEncrypt(enc.encode(jws))
          .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', cty: 'JWT' })
          .encrypt(recipientPub)
        inflight++
        client.publish(RECIPIENT, jwe, { qos: 1 }, done)
        while (inflight > MAX_QUEUED) await settle()
        if (onProgress !== undefined && i % 50_000 === 0) onProgress(i)
      }
      while (inflight > 0) await settle()
    },
    async close() {
      await client.endAsync()
    },
  }
}

/** The floor set by the MQTT library: MQTT.js alone publishing an already sealed 800-byte payload at QoS 1. */
export async function mqttOnlyPipeline(mqttUrl: string): Promise<Pipeline> {
  const client = mqtt.connect(mqttUrl, { clientId: `bench-mqtt-${process.pid}`, protocolVersion: 5 })
  await new Promise<void>((r) => client.once('connect', () => r()))
  const payload = Buffer.alloc(800, 0x41)
  let inflight = 0
  const done = (): void => {
    inflight--
  }
  return {
    async run(n) {
      for (let i = 0; i < n; i++) {
        inflight++
        client.publish(RECIPIENT, payload, { qos: 1 }, done)
        if ((i & 15) === 15) while (inflight > MAX_QUEUED) await settle()
      }
      while (inflight > 0) await settle()
    },
    async close() {
      await client.endAsync()
    },
  }
}
