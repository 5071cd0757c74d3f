/** Store-and-forward at boot: DNS down and the clock unsynced; every reading of those minutes arrives later with its true time. */

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfig } from '../../device/config.js'
import type { ReadingSealer } from '../../device/loop.js'
import { type DeviceParts, startDevice } from '../../device/runtime.js'
import { createLogger } from '../../src/log.js'
import { FakeTimers, memorySequence, ScriptedDriver } from './loop-fakes.js'

const GW = 'gw._device.example.com'
/** The true wall time at monotonic 0 (the node boots at 2026-12-02 08:00 UTC, but its clock says 1970). */
const BOOT = Date.UTC(2026, 11, 2, 8, 0, 0)

function boot() {
  const timers = new FakeTimers()
  // A Pi without an RTC: the wall clock starts near 1970 and jumps to the true time when NTP syncs.
  let synced = false
  const clock = { now: () => (synced ? BOOT : 0) + timers.nowMs(), synced: () => synced }
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
    Array.from({ length: 1000 }, (_, i) => i + 1),
  )
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
    log: createLogger({ level: 'info', write: (l) => logs.push(l) }),
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
