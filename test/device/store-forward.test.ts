/** Store-and-forward at boot: DNS down and the clock unsynced; every reading of those minutes arrives later with its true time, across a restart too. */

import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { parseConfig } from '../../device/config.js'
import { HELD_FILE, HeldStore } from '../../device/held-store.js'
import type { ReadingSealer } from '../../device/loop.js'
import { type DeviceParts, startDevice } from '../../device/runtime.js'
import { createLogger } from '../../src/log.js'
import { makeTempDir } from '../../testkit/paths.js'
import { FakeTimers, memorySequence, ScriptedDriver } from './loop-fakes.js'

const GW = 'gw._device.example.com'
/** The true wall time at monotonic 0 (the node boots at 2026-12-02 08:00 UTC, but its clock says 1970). */
const BOOT = Date.UTC(2026, 11, 2, 8, 0, 0)

const tmp = makeTempDir('daneel-store-forward-')
after(() => tmp.cleanup())

/**
 * One start of the runtime. `at`: the machine's monotonic time (ms since its boot, the true time BOOT) at which this
 * process starts; its own timers start at 0, as performance.now does. `held`: the held readings' file, with the
 * kernel's boot id; its monotonic clock is the machine's.
 */
function boot(o: { at?: number; first?: number; held?: { dir: string; bootId: string } } = {}) {
  const timers = new FakeTimers()
  const at = o.at ?? 0
  // A Pi without an RTC: the wall clock starts near 1970 and jumps to the true time when NTP syncs.
  let synced = false
  const clock = { now: () => (synced ? BOOT + at : 0) + timers.nowMs(), synced: () => synced }
  const sent: Array<{ topic: string; msg: Record<string, any> }> = []
  let dnsUp: (s: ReadingSealer) => void = () => {}
  const lookup = new Promise<ReadingSealer>((r) => {
    dnsUp = r
  })
  const logs: string[] = []
  const driver = new ScriptedDriver(
    'pm',
    'pms5003',
    timers,
    Array.from({ length: 1100 }, (_, i) => i + (o.first ?? 1)),
  )
  const log = createLogger({ level: 'info', write: (l) => logs.push(l) })
  const held = o.held
  const parts: DeviceParts = {
    sender: 'n1._device.example.com',
    config: parseConfig({
      version: 1,
      recipients: [GW],
      intervalSeconds: 10,
      statusIntervalSeconds: 0,
      sensors: [{ id: 'pm', type: 'pms5003', port: '/dev/ttyAMA0', warmupSeconds: 0 }],
    }),
    outbox: {
      append: async (topic, payload) => {
        sent.push({ topic, msg: JSON.parse(Buffer.from(payload).toString('utf8')) })
        return sent.length
      },
      pending: 0,
      close: async () => {},
    },
    transport: { stop: async () => {} },
    sequence: memorySequence(),
    clock,
    timers,
    log,
    ...(held === undefined
      ? {}
      : {
          heldStore: new HeldStore({
            path: join(held.dir, HELD_FILE),
            boot: { bootId: () => held.bootId, monoMs: () => at + timers.nowMs() },
            log,
          }),
        }),
    openSensors: async () => ({ sensors: [{ driver, intervalMs: 10_000 }], close: () => {} }),
    // The recipient's key: found only when DNS comes up.
    sealerFor: () => lookup,
  }
  return {
    timers,
    sent,
    logs,
    parts,
    sync: () => {
      synced = true
    },
    dnsUp: () => dnsUp({ seal: (r, { now, seq }) => JSON.stringify({ aud: GW, iat: now, seq, ...r }) }),
  }
}

const tick = () => new Promise((r) => setImmediate(r))

test('DNS down and clock unsynced at boot: readings are held, then all arrive in order, each with its true time', async () => {
  const b = boot()
  const starting = startDevice(b.parts)
  await tick()
  // Minutes 0-3: DNS down, clock unsynced. A reading every 10 s is taken and held.
  b.timers.advance(180_000)
  assert.equal(b.sent.length, 0)
  b.dnsUp()
  const dev = await starting
  assert.equal(dev.loop.stats.held, 19, 'readings at 0, 10, ..., 180 s')
  // Minutes 3-5: the key is known but the clock is not right: still held, never sealed with a 1970 time.
  b.timers.advance(120_000)
  assert.equal(b.sent.length, 0)
  assert.equal(dev.loop.stats.held, 31)
  b.sync()
  b.timers.advance(30_000)
  await dev.stop()

  const readings = b.sent.filter((s) => s.msg.values !== undefined).map((s) => s.msg)
  // Every reading from t = 0 to 330 s, once, in order, with consecutive sequence numbers and its true time.
  assert.equal(readings.length, 34)
  readings.forEach((m, i) => {
    assert.equal(m.values.pm25, i + 1)
    assert.equal(m.iat, BOOT + i * 10_000, `reading ${i} stamped with the time it was taken`)
  })
  const seqs = b.sent.map((s) => s.msg.seq)
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => i),
  )
  assert.ok(b.sent.every((s) => s.topic === GW))
  assert.ok(
    b.sent.every((s) => s.msg.iat >= BOOT),
    'nothing sealed with the unsynced clock',
  )
  // Logged once per reason, not per reading (the clock is the reason named while both hold).
  assert.equal(b.logs.filter((l) => l.includes('readings are kept')).length, 1)
  assert.equal(b.logs.filter((l) => l.includes('sealing the readings kept meanwhile')).length, 1)
})

test('the hold is bounded: beyond it the oldest readings go, counted and reported in status', async () => {
  const b = boot()
  const starting = startDevice(b.parts)
  await tick()
  b.dnsUp()
  const dev = await starting
  b.timers.advance(1005 * 10_000) // 1,006 readings while the clock is unsynced: 6 more than DEFAULT_HOLD_MAX
  assert.equal(dev.loop.stats.held, 1000)
  assert.equal(dev.loop.stats.heldDropped, 6)
  b.sync()
  const status = dev.loop.summary() as { status: Record<string, unknown> }
  assert.equal(status.status.heldDropped, 6)
  b.timers.advance(10_000)
  await dev.stop()
  const readings = b.sent.filter((s) => s.msg.values !== undefined).map((s) => s.msg)
  assert.equal(readings[0]?.values.pm25, 7, 'the six oldest were dropped')
  assert.equal(readings[0]?.iat, BOOT + 6 * 10_000)
  assert.equal(readings.length, 1001)
})

const readingsOf = (sent: ReturnType<typeof boot>['sent']) => sent.filter((s) => s.msg.values !== undefined).map((s) => s.msg)
const fileLines = (dir: string) =>
  readFileSync(join(dir, HELD_FILE), 'utf8')
    .split('\n')
    .filter((l) => l !== '')

/** Starts a device on `b` whose DNS comes up just after start-up began (the key lookup has failed once). */
async function startThenDnsUp(b: ReturnType<typeof boot>) {
  const starting = startDevice(b.parts)
  await tick()
  b.dnsUp()
  return starting
}

test('a crash while readings are held loses none: the next start seals them with their true time, once', async () => {
  const dir = join(tmp.dir, 'crash')
  mkdirSync(dir)
  // First run: DNS up, the clock never syncs. Readings at 0, 10, ..., 120 s are held (and written as they are).
  const a = boot({ held: { dir, bootId: 'boot-1' }, first: 1 })
  const devA = await startThenDnsUp(a)
  a.timers.advance(125_000)
  assert.equal(devA.loop.stats.held, 13)
  assert.equal(fileLines(dir).length, 13)
  assert.equal(statSync(join(dir, HELD_FILE)).mode & 0o777, 0o600)
  // The process dies (watchdog, OOM, kill -9): no drain, nothing flushed. It is back 5 s later, same boot.
  devA.loop.stop()
  assert.equal(a.sent.length, 0)

  const b = boot({ held: { dir, bootId: 'boot-1' }, at: 130_000, first: 101 })
  const devB = await startThenDnsUp(b)
  assert.equal(devB.loop.stats.held, 13, "the first run's readings are held again")
  assert.equal(b.logs.filter((l) => l.includes('13 held readings recovered')).length, 1)
  b.timers.advance(20_000) // readings at 130, 140, 150 s: held too, the clock is still wrong
  assert.equal(devB.loop.stats.held, 16)
  b.sync()
  b.timers.advance(10_000)
  await tick()

  const readings = readingsOf(b.sent)
  assert.deepEqual(
    readings.map((m) => m.values.pm25),
    [...Array.from({ length: 13 }, (_, i) => i + 1), 101, 102, 103, 104],
  )
  readings.forEach((m, i) => {
    const takenAt = i < 13 ? i * 10_000 : 130_000 + (i - 13) * 10_000
    assert.equal(m.iat, BOOT + takenAt, `reading ${i} (pm25 ${m.values.pm25}) stamped with the time it was taken`)
  })
  assert.deepEqual(
    b.sent.map((s) => s.msg.seq),
    b.sent.map((_, i) => i),
  )
  // Released and in the outbox: the file is emptied; readings sealed at once (the hot path) never touch it.
  assert.deepEqual(fileLines(dir), [])
  b.timers.advance(60_000)
  assert.equal(readingsOf(b.sent).length, 23)
  assert.deepEqual(fileLines(dir), [])
  await devB.stop()

  // A third start finds nothing to seal again: no duplicates.
  const c = boot({ held: { dir, bootId: 'boot-1' }, at: 400_000, first: 201 })
  const startingC = startDevice(c.parts)
  await tick()
  c.dnsUp()
  c.sync()
  const devC = await startingC
  assert.equal(devC.loop.stats.held, 0)
  c.timers.advance(0)
  await devC.stop()
  assert.deepEqual(
    readingsOf(c.sent).map((m) => m.values.pm25),
    [201],
  )
})

test('after a reboot the held readings have no true time: dropped, counted in status, logged once; none sealed with a wrong time', async () => {
  const dir = join(tmp.dir, 'reboot')
  mkdirSync(dir)
  const a = boot({ held: { dir, bootId: 'boot-1' }, first: 1 })
  const devA = await startThenDnsUp(a)
  a.timers.advance(40_000)
  assert.equal(devA.loop.stats.held, 5)
  devA.loop.stop() // power cut

  // The Pi boots again: a new boot id, and its monotonic clock starts from 0 (these readings' 0-40 s mean nothing).
  const b = boot({ held: { dir, bootId: 'boot-2' }, at: 0, first: 101 })
  const devB = await startThenDnsUp(b)
  assert.equal(devB.loop.stats.held, 0)
  assert.equal(devB.loop.stats.heldLostReboot, 5)
  assert.equal(b.logs.filter((l) => l.includes('5 held readings were taken before the last reboot')).length, 1)
  b.sync()
  const status = devB.loop.summary() as { status: Record<string, unknown> }
  assert.equal(status.status.heldLostReboot, 5)
  b.timers.advance(20_000)
  await devB.stop()
  const readings = readingsOf(b.sent)
  assert.deepEqual(
    readings.map((m) => [m.values.pm25, m.iat]),
    [
      [101, BOOT],
      [102, BOOT + 10_000],
      [103, BOOT + 20_000],
    ],
  )
  assert.deepEqual(fileLines(dir), [], 'the lost lines are cut from the file')
})
