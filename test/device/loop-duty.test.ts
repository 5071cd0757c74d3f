/** The loop's duty cycle on fake time (no pty): held windows restamped, an empty window publishes nothing, the status carries the lasers. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LaserHours } from '../../device/laser-hours.js'
import { DeviceLoop, type LoopOutbox } from '../../device/loop.js'
import { FakeClock } from '../../sensors/fakes/fake-clock.js'
import { FakeUart } from '../../sensors/fakes/fake-uart.js'
import { encodeSdsFrame, Sds011Emulator } from '../../sensors/fakes/sds011-emulator.js'
import { Sds011 } from '../../sensors/sds011/sds011.js'
import type { Clock } from '../../src/clock.js'
import { createLogger } from '../../src/log.js'
import { memorySequence } from './loop-fakes.js'

type Stats = Record<string, number>
interface Sealed {
  values?: Stats
  status?: object
  window: { start: number; end: number; n: number; median?: Stats }
}

const EPOCH = Date.UTC(2026, 11, 3)
const PLAN = { warmupMs: 30_000, windowMs: 10_000, stats: ['median' as const] }

function setup(opts: { synced: () => boolean; wallOffset?: () => number; silent?: boolean; continuous?: boolean }) {
  const timers = new FakeClock(0)
  const uart = new FakeUart()
  const pm = 4
  const emu = new Sds011Emulator(uart, timers, { frames: () => encodeSdsFrame(pm, pm * 2) })
  const driver = new Sds011(uart, timers, { id: 'pm', warmupMs: PLAN.warmupMs })
  const sent: Array<{ iat: number; r: Sealed }> = []
  const outbox: LoopOutbox = { append: (_t, p) => sent.push(JSON.parse(Buffer.from(p).toString('utf8'))) }
  const wall: Clock = { now: () => EPOCH + (opts.wallOffset?.() ?? 0) + timers.nowMs(), synced: opts.synced }
  const log = createLogger({ write: () => {} })
  const laser = new LaserHours({ timers, log })
  const loop = new DeviceLoop({
    sensors: [
      opts.continuous === true
        ? { driver, intervalMs: 10_000, duty: { warmupMs: PLAN.warmupMs, windowMs: 10_000, sleeps: false } }
        : { driver, intervalMs: 60_000, duty: PLAN },
    ],
    recipients: [{ name: 'gw', sealer: { seal: (r, { now, seq }) => JSON.stringify({ iat: now, seq, r }) } }],
    outbox,
    sequence: memorySequence(),
    clock: wall,
    timers,
    log,
    statusIntervalMs: 0,
    laser,
  })
  if (opts.silent === true) emu.close() // a dead chip: nothing on the line
  return { timers, emu, driver, loop, sent, laser }
}

test('a window closed before the clock synced is held, then sealed with its true time and its window moved with it', () => {
  let synced = false
  // A Pi at boot: the wall clock says 1976 until NTP steps it to the right time.
  const s = setup({ synced: () => synced, wallOffset: () => (synced ? 0 : -50 * 365 * 86_400_000) })
  s.loop.start()
  s.timers.advance(45_000)
  assert.equal(s.sent.length, 0)
  assert.equal(s.loop.stats.held, 1)
  synced = true
  s.timers.advance(60_000) // the next window closes at 100 s and releases the held one first
  const [held, next] = s.sent.map((m) => m.r)
  assert.ok(held !== undefined && next !== undefined)
  assert.deepEqual([held.window.start, held.window.end], [EPOCH + 30_000, EPOCH + 40_000])
  assert.equal(s.sent[0]?.iat, EPOCH + 40_000)
  assert.deepEqual([next.window.start, next.window.end], [EPOCH + 90_000, EPOCH + 100_000])
  assert.deepEqual(held.values, { pm25: 4, pm10: 8 })
  assert.deepEqual(held.window.median, { pm25: 4, pm10: 8 })
})

test('a silent chip: every window empty, no reading published, E_TIMEOUT per window until degraded; it still sleeps', () => {
  const s = setup({ synced: () => true, silent: true })
  s.loop.start()
  s.timers.advance(3 * 60_000 + 41_000)
  assert.equal(s.sent.filter((m) => m.r.values !== undefined).length, 0)
  assert.equal(s.driver.status.lastFault, 'E_TIMEOUT')
  assert.equal(s.driver.status.health, 'degraded') // health carries over across windows (sleep is not stop)
  assert.equal(s.driver.status.state, 'sleeping')
  const health = s.sent.filter((m) => m.r.status !== undefined)
  assert.equal(health.length, 1)
})

test('stop puts the chip to sleep and the summary reports the laser hours with the rated life left', () => {
  const s = setup({ synced: () => true })
  s.loop.start()
  s.timers.advance(125_000) // windows at 0-40 and 60-100, awake again since 120
  const lasers = (s.loop.summary() as { status: { lasers: Array<Record<string, unknown>> } }).status.lasers
  assert.deepEqual(lasers, [{ sensor: 'pm', model: 'sds011', hours: 0.02, ratedHours: 8000, remainingHours: 7999.98 }])
  assert.equal(s.laser.hours('pm', 125_000) * 3_600_000, 85_000)
  s.loop.stop()
  assert.equal(s.emu.awake, false)
  assert.equal(s.driver.status.state, 'stopped')
  assert.equal(s.timers.pending > 0, true) // the emulator's reply timer; the loop's own is cleared
})

test('a PM sensor that does not sleep: one warm-up, then back-to-back windows of one interval, each a reading', () => {
  const s = setup({ synced: () => true, continuous: true })
  s.loop.start()
  s.timers.advance(60_000)
  const windows = s.sent.map((m) => m.r.window)
  assert.deepEqual(
    windows.map((w) => [w.start - EPOCH, w.end - EPOCH]),
    [
      [30_000, 40_000],
      [40_000, 50_000],
      [50_000, 60_000],
    ],
  )
  // A frame a second: each window has its own ten (the closing sample is not also the next window's first).
  assert.deepEqual(
    windows.map((w) => w.n),
    [10, 10, 10],
  )
  assert.deepEqual(s.emu.power, []) // never put to sleep
  assert.equal(s.laser.hours('pm', 60_000) * 3_600_000, 60_000)
})
