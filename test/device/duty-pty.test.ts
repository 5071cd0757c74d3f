/** Duty cycling end to end: the runtime sleeps an SDS011 and a PMS5003 (chip emulators behind socat ptys) between windows, on a fake clock. */
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { parseConfig } from '../../device/config.js'
import { openSensors } from '../../device/drivers.js'
import { type LinuxUart, openUart } from '../../device/hal-linux/uart.js'
import { LASER_HOURS_FILE, LaserHours } from '../../device/laser-hours.js'
import type { RunningDevice } from '../../device/runtime.js'
import { startDevice } from '../../device/runtime.js'
import { FakeClock } from '../../sensors/fakes/fake-clock.js'
import { encodePmsFrame, Pms5003Emulator } from '../../sensors/fakes/pms5003-emulator.js'
import { encodeSdsFrame, Sds011Emulator } from '../../sensors/fakes/sds011-emulator.js'
import type { StreamingEmulator } from '../../sensors/fakes/streaming-emulator.js'
import { PMS_CMD_SLEEP, PMS_CMD_WAKE } from '../../sensors/pms5003/commands.js'
import { SDS_CMD_SLEEP, SDS_CMD_WAKE } from '../../sensors/sds011/commands.js'
import type { Clock } from '../../src/clock.js'
import { silentLogger } from '../../src/log.js'
import { makeTempDir } from '../../testkit/paths.js'
import { type PtyPair, startPtyPair } from './hal-linux/pty-pair.js'
import { memorySequence } from './loop-fakes.js'
import { counted, settle, Wire, wire } from './pty-chip.js'

const EPOCH = Date.UTC(2026, 11, 3, 0, 0, 0)
const WARMUP = 30_000
const WINDOW = 10_000
const INTERVAL = 90_000
/** What the emulated chips send while their fan spins up: never part of a reading. */
const WARMING_PM = 999
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const tmp = makeTempDir('daneel-duty-')
const open: Rig[] = []
after(async () => {
  for (const r of open) await r.close() // also when an assertion failed: socat and the ttys must not outlive the test
  tmp.cleanup()
})

type Stats = Record<string, number>
/** What the test's sealer writes: the claims, the reading under r. */
interface Sealed {
  r: {
    sensor: string
    model: string
    values: Stats
    window: { start: number; end: number; n: number; min?: Stats; max?: Stats; median?: Stats }
  }
}

interface Rig {
  clock: FakeClock
  state: string
  sds: Sds011Emulator
  pms: Pms5003Emulator
  pairs: PtyPair[]
  sent: Sealed[]
  dev: RunningDevice
  step(ms: number, by?: number): Promise<void>
  close(): Promise<void>
}

async function rig(name: string, clock: FakeClock, state: string): Promise<Rig> {
  const dir = join(tmp.dir, name)
  mkdirSync(dir)
  mkdirSync(join(dir, 'a'))
  mkdirSync(join(dir, 'b'))
  const pairs = [await startPtyPair(join(dir, 'a')), await startPtyPair(join(dir, 'b'))]
  const [pa, pb] = pairs as [PtyPair, PtyPair]
  // Frames carry WARMING_PM during the first 30 s after each wake, then steady values.
  const warming = (e: StreamingEmulator): boolean => clock.nowMs() - e.awakeSinceMs < WARMUP
  let sds: Sds011Emulator | undefined
  let pms: Pms5003Emulator | undefined
  const pmsValues = (pm25: number) => ({
    pm1Cf1: 5,
    pm25Cf1: pm25,
    pm10Cf1: 9,
    pm1: 5,
    pm25,
    pm10: 9,
    n03: 300,
    n05: 90,
    n1: 40,
    n25: 8,
    n5: 1,
    n10: 0,
  })
  const wires = new Map([
    [pa.device, new Wire()],
    [pb.device, new Wire()],
  ])
  const io = (): Promise<void> => settle([...wires.values()])
  wire(pa, wires.get(pa.device) as Wire, (u) => {
    sds = new Sds011Emulator(u, clock, {
      frames: () => (warming(sds as Sds011Emulator) ? encodeSdsFrame(WARMING_PM, WARMING_PM) : encodeSdsFrame(12.3, 20.5)),
    })
    return sds
  })
  wire(pb, wires.get(pb.device) as Wire, (u) => {
    pms = new Pms5003Emulator(u, clock, {
      periodMs: 1000,
      frames: () => encodePmsFrame(pmsValues(warming(pms as Pms5003Emulator) ? WARMING_PM : 7)),
    })
    return pms
  })
  const config = parseConfig({
    version: 1,
    recipients: ['gw._device.example.com'],
    intervalSeconds: INTERVAL / 1000,
    statusIntervalSeconds: 3600,
    sensors: [
      { id: 'sds', type: 'sds011', port: pa.device, windowStats: ['min', 'max', 'median'] },
      { id: 'pms', type: 'pms5003', port: pb.device, duty: { warmupSeconds: WARMUP / 1000, windowSeconds: WINDOW / 1000 } },
    ],
  })
  const uarts: LinuxUart[] = []
  const wall: Clock = { now: () => EPOCH + clock.nowMs(), synced: () => true }
  const sent: Sealed[] = []
  const log = silentLogger
  const dev = await startDevice({
    sender: 'n1._device.example.com',
    config,
    outbox: {
      append: async (_topic, payload) => {
        sent.push(JSON.parse(Buffer.from(payload).toString('utf8')))
        return sent.length
      },
      pending: 0,
      close: async () => {},
    },
    transport: { stop: async () => {} },
    sequence: memorySequence(),
    clock: wall,
    timers: clock,
    log,
    openSensors: (c) =>
      openSensors(
        c,
        {
          uart: async (port, baud) => {
            const u = await openUart(port, { baud })
            uarts.push(u)
            return counted(u, wires.get(port) as Wire)
          },
          gpio: () => Promise.reject(new Error('no gpio')),
          iio: () => Promise.reject(new Error('no iio')),
        },
        clock,
        () => {},
      ),
    sealerFor: async (to) => ({ seal: (r, { now, seq }) => JSON.stringify({ aud: to, iat: now, seq, r }) }),
    laser: new LaserHours({ path: join(state, LASER_HOURS_FILE), timers: clock, log }),
  })
  await io()
  let closed = false
  const r: Rig = {
    clock,
    state,
    sds: sds as Sds011Emulator,
    pms: pms as Pms5003Emulator,
    pairs,
    sent,
    dev,
    async step(ms, by = 1000) {
      for (let t = 0; t < ms; t += by) {
        clock.advance(by)
        await io()
      }
    },
    async close() {
      if (closed) return
      closed = true
      await dev.stop()
      await sleep(20)
      ;(sds as Sds011Emulator).close()
      ;(pms as Pms5003Emulator).close()
      for (const p of pairs) await p.stop()
    },
  }
  open.push(r)
  return r
}

/** Laser hours are stored to 1e-6 h (3.6 ms). */
const sameMs = (hours: number, ms: number): void => assert.ok(Math.abs(hours * 3_600_000 - ms) < 10, `${hours} h is not ${ms} ms`)

const readings = (sent: Sealed[], sensor: string) => sent.filter((m) => m.r.sensor === sensor).map((m) => m.r)

test('SDS011 and PMS5003 duty-cycled by the runtime: wake, 30 s warm-up, 10 s window, sleep; laser hours survive a restart', async () => {
  const state = join(tmp.dir, 'state')
  mkdirSync(state)
  const clock = new FakeClock(0)
  const a = await rig('run1', clock, state)
  // Two whole cycles (0-90 s, 90-180 s) and the start of a third.
  await a.step(2 * INTERVAL + 5000)

  // On the wire, as each chip heard it: wake at 0 (start), sleep when the window closes at 40 s, wake at 90 s, ...
  const expected = [
    { atMs: 0, awake: true },
    { atMs: WARMUP + WINDOW, awake: false },
    { atMs: INTERVAL, awake: true },
    { atMs: INTERVAL + WARMUP + WINDOW, awake: false },
    { atMs: 2 * INTERVAL, awake: true },
  ]
  for (const emu of [a.sds, a.pms]) {
    // Both chips power up awake, so the first wake is not a change: the sleeps and the later wakes are.
    assert.deepEqual(emu.power, expected.slice(1), emu.constructor.name)
  }
  assert.ok(a.sds.commands.includes(hex(SDS_CMD_SLEEP)) && a.sds.commands.includes(hex(SDS_CMD_WAKE)))
  assert.ok(a.pms.commands.includes(hex(PMS_CMD_SLEEP)) && a.pms.commands.includes(hex(PMS_CMD_WAKE)))

  // One reading per window, at the window's end, made of window samples only (the chips sent 999 while warming).
  const sds = readings(a.sent, 'sds')
  const pms = readings(a.sent, 'pms')
  assert.equal(sds.length, 2)
  assert.equal(pms.length, 2)
  for (const [i, r] of sds.entries()) {
    assert.deepEqual(r.values, { pm25: 12.3, pm10: 20.5 })
    assert.equal(r.window.end, EPOCH + i * INTERVAL + WARMUP + WINDOW)
    assert.equal(r.window.start, EPOCH + i * INTERVAL + WARMUP)
    assert.ok(r.window.n >= 9 && r.window.n <= 10, `SDS011 window of ${r.window.n} one-second samples`)
    assert.deepEqual([r.window.min?.pm25, r.window.max?.pm25, r.window.median?.pm25], [12.3, 12.3, 12.3])
  }
  for (const r of pms) {
    assert.equal(r.values.pm25, 7)
    assert.ok(r.window.n >= 9 && r.window.n <= 10, `PMS5003 window of ${r.window.n} samples`)
    assert.equal(r.window.min, undefined) // not asked for in its config
  }
  // The gateway's reader takes sensor, model and values, the trimmed means.
  assert.deepEqual(Object.keys(sds[0] ?? {}), ['sensor', 'model', 'values', 'window'])

  // Stop: the laser hours are written (2 x 40 s, and 5 s of the third cycle).
  await a.close()
  const file = JSON.parse(readFileSync(join(state, LASER_HOURS_FILE), 'utf8'))
  const onMs = 2 * (WARMUP + WINDOW) + 5000
  sameMs(file.sensors.sds.hours, onMs)
  assert.equal(file.sensors.sds.model, 'sds011')
  sameMs(file.sensors.pms.hours, onMs)

  // A new process (a new runtime, clock and emulators) reads them back and carries on counting.
  const b = await rig('run2', new FakeClock(0), state)
  await b.step(WARMUP + WINDOW)
  const summary = (
    b.dev.loop.summary() as { status: { lasers: Array<Record<string, number | string>>; sensors: Array<{ state: string }> } }
  ).status
  const sdsLaser = summary.lasers.find((l) => l.sensor === 'sds') as Record<string, number>
  const hours = (onMs + WARMUP + WINDOW) / 3_600_000
  assert.equal(sdsLaser.hours, Math.round(hours * 100) / 100)
  assert.equal(sdsLaser.ratedHours, 8000)
  assert.equal(sdsLaser.remainingHours, Math.round((8000 - hours) * 100) / 100)
  assert.deepEqual(
    summary.sensors.map((s) => s.state),
    ['sleeping', 'sleeping'],
  )
  await b.close()
  const again = JSON.parse(readFileSync(join(state, LASER_HOURS_FILE), 'utf8'))
  sameMs(again.sensors.sds.hours, onMs + WARMUP + WINDOW)
})
