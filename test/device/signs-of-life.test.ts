/** The runtime as wired by start.ts, on fake time and a real Mosquitto: the 10-minute 'alive' line and the sealed status summary. */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import mqtt from 'mqtt'
import { type StartedDevice, startDeviceFromConfig } from '../../device/start.js'
import { FakeClock } from '../../sensors/fakes/fake-clock.js'
import { FakeUart } from '../../sensors/fakes/fake-uart.js'
import { Pms5003Emulator } from '../../sensors/fakes/pms5003-emulator.js'
import { requireDaneId, resolveSettings } from '../../settings/settings.js'
import { systemClock } from '../../src/clock.js'
import { getProvider } from '../../src/crypto/get-provider.js'
import { makeTlsaRecord } from '../../src/dane/tlsa.js'
import { createIdentity, loadIdentity } from '../../src/identity/store.js'
import { createLogger } from '../../src/log.js'
import { certificateResolver } from '../../src/message/offline.js'
import { createOpener } from '../../src/message/open.js'
import { createReplayWindow } from '../../src/message/replay.js'
import { VERSION } from '../../src/version.js'
import { type Mosquitto, startMosquitto } from '../../testkit/mosquitto.js'
import { makeTempDir } from '../../testkit/paths.js'

const SENDER = 'n1.airquality._device.example.com'
const GW = 'gw._device.example.com'
const tmp = makeTempDir('daneel-signs-')
let broker: Mosquitto | undefined
let sub: mqtt.MqttClient | undefined
let dev: StartedDevice | undefined
after(async () => {
  await dev?.stop()
  await sub?.endAsync(true)
  await broker?.stop()
  tmp.cleanup()
})

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

test("start.ts wiring: an 'alive' line at 10 minutes with the runtime's real counters; the summary carries version, uptime, outbox", async () => {
  const cryptoPath = join(tmp.dir, 'crypto')
  const sender = createIdentity({ cryptoPath, daneId: SENDER, keyType: 'p256' })
  const gw = createIdentity({ cryptoPath: join(tmp.dir, 'gw'), daneId: GW, keyType: 'p256' })
  if (sender.cert === undefined || gw.cert === undefined) throw new Error('self-signed certificates expected')
  const gwRecord = makeTlsaRecord(gw.cert, 3, 1, 0)
  broker = await startMosquitto({ dir: join(tmp.dir, 'broker'), persistence: false })
  const sealed: Buffer[] = []
  sub = mqtt.connect(broker.url, { clientId: `signs-${process.pid}` })
  await new Promise<void>((r) => sub?.once('connect', () => sub?.subscribe(GW, { qos: 1 }, () => r())))
  sub.on('message', (_t, p) => sealed.push(p))

  const configPath = join(tmp.dir, 'device.json')
  writeFileSync(
    configPath,
    JSON.stringify({
      version: 1,
      recipients: [GW],
      intervalSeconds: 10,
      statusIntervalSeconds: 300,
      sensors: [{ id: 'pm', type: 'pms5003', port: '/dev/ttyAMA0', warmupSeconds: 0 }],
    }),
  )
  const settings = resolveSettings(
    { 'dane-id': SENDER, 'crypto-path': cryptoPath, state: join(tmp.dir, 'state'), 'mqtt-url': broker.url },
    {},
  )
  const timers = new FakeClock(0)
  const lines: string[] = []
  const emulators: Pms5003Emulator[] = []
  dev = await startDeviceFromConfig({ ...settings, daneId: requireDaneId(settings) }, configPath, {
    tlsa: { lookupTlsa: async () => ({ records: [gwRecord], status: 'secure', reason: 'test', ttl: 300 }) },
    hal: {
      uart: async () => {
        const u = new FakeUart()
        emulators.push(new Pms5003Emulator(u, timers, { periodMs: 1000 }))
        return u
      },
      gpio: () => Promise.reject(new Error('no gpio')),
      iio: () => Promise.reject(new Error('no iio')),
    },
    log: createLogger({ level: 'info', write: (l) => lines.push(l) }),
    clock: systemClock,
    timers,
  })
  const d = dev
  /** Fake time for the loop and the journal; real time for the broker to acknowledge what was sealed. */
  const advanceTo = async (ms: number): Promise<void> => {
    while (timers.nowMs() < ms) {
      timers.advance(Math.min(5000, ms - timers.nowMs()))
      await sleep(5)
    }
    const end = Date.now() + 20_000
    while (d.stats().outbox > 0 && Date.now() < end) await sleep(20)
  }
  await advanceTo(599_000)
  assert.equal(lines.filter((l) => l.includes('alive')).length, 0, 'nothing before 10 minutes')
  const before = d.stats()
  assert.ok(before.acknowledged > 0 && before.outbox === 0, JSON.stringify(before))
  timers.advance(1000)
  const alive = lines.filter((l) => l.includes('alive'))
  assert.equal(alive.length, 1, lines.join('\n'))
  const now = d.stats()
  // The loop's tick at 600 s may run just before or just after the journal's: the line holds one or the other.
  const line = JSON.parse((alive[0] ?? '').replace(/^.*? alive /, '')) as Record<string, number | string>
  for (const key of ['readings', 'sealed', 'acknowledged', 'outbox'] as const) {
    const v = line[key] as number
    assert.ok(v >= Math.min(before[key], now[key]) && v <= Math.max(before[key], now[key]), `${key} ${v} in ${alive[0]}`)
  }
  assert.equal(line.uptimeS, 600)
  assert.equal(line.mqtt, 'connected')
  assert.ok((line.readings as number) >= 59, `a reading every 10 s: ${alive[0]}`)
  assert.ok((line.acknowledged as number) >= before.acknowledged && before.acknowledged >= 59, 'what the broker acknowledged')

  // The summaries (at 5 and 10 minutes), sealed like readings: opened with the gateway's key.
  await advanceTo(601_000)
  const end = Date.now() + 20_000
  let summaries: Record<string, unknown>[] = []
  while (summaries.length < 2 && Date.now() < end) {
    await sleep(50)
    summaries = []
    // A fresh opener per pass: each pass opens every message received so far (a replay window would refuse repeats).
    const o = createOpener({
      provider: getProvider('node'),
      recipientName: GW,
      recipientKey: loadIdentity(join(tmp.dir, 'gw'), GW).privateKey,
      resolveSender: certificateResolver([sender.cert.der]).resolve,
      trustedDomains: ['example.com'],
      clock: systemClock,
      replay: createReplayWindow(),
    })
    for (const p of sealed) {
      const m = await o.open(new Uint8Array(p))
      const st = (m.reading as { status?: Record<string, unknown> } | undefined)?.status
      if (st?.uptimeS !== undefined) summaries.push(st)
    }
  }
  assert.equal(summaries.length, 2, `two summaries in 10 minutes: ${JSON.stringify(summaries)}`)
  assert.deepEqual(
    summaries.map((s) => [s.version, s.uptimeS, typeof s.outbox, s.held, s.heldDropped]),
    [
      [VERSION, 300, 'number', 0, 0],
      [VERSION, 600, 'number', 0, 0],
    ],
  )
  for (const e of emulators) e.close()
})
