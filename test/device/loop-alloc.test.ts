/** The loop's own allocation per reading, measured (STYLE: measure allocation, don't guess it): frame in, real PMS5003 driver, loop, to the sealer. */

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GCProfiler } from 'node:v8'
import { DeviceLoop } from '../../device/loop.js'
import { FakeClock } from '../../sensors/fakes/fake-clock.js'
import { FakeUart } from '../../sensors/fakes/fake-uart.js'
import { encodePmsFrame } from '../../sensors/fakes/pms5003-emulator.js'
import { Pms5003 } from '../../sensors/pms5003/pms5003.js'
import { fixedClock } from '../../src/clock.js'
import { silentLogger } from '../../src/log.js'

/** Heap bytes allocated by `fn`: used-heap growth plus what every GC in between freed. */
function allocated(fn: () => void): number {
  const prof = new GCProfiler()
  const before = process.memoryUsage().heapUsed
  prof.start()
  fn()
  const after = process.memoryUsage().heapUsed
  const data = prof.stop() as {
    statistics: Array<{ beforeGC: { heapStatistics: { usedHeapSize: number } }; afterGC: { heapStatistics: { usedHeapSize: number } } }>
  }
  let freed = 0
  for (const s of data.statistics) freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize
  return after - before + freed
}

test('frame in, driver, loop and claims hand-off allocate under 2 KiB per reading (the sealer and outbox excluded)', () => {
  const clock = new FakeClock(0)
  const uart = new FakeUart()
  const driver = new Pms5003(uart, clock, { id: 'pm', warmupMs: 0, timeoutMs: 3_600_000 })
  const frame = encodePmsFrame({
    pm1Cf1: 6,
    pm25Cf1: 8,
    pm10Cf1: 11,
    pm1: 6,
    pm25: 8,
    pm10: 11,
    n03: 210,
    n05: 70,
    n1: 45,
    n25: 30,
    n5: 0,
    n10: 0,
  })
  const sealed = new Uint8Array(700)
  let appended = 0
  let lastClaims: unknown
  let seq = 0
  const loop = new DeviceLoop({
    sensors: [{ driver, intervalMs: 1000 }],
    recipients: [
      {
        name: 'gw._device.example.com',
        sealer: {
          seal: (claims) => {
            lastClaims = claims
            return sealed
          },
        },
      },
    ],
    outbox: { append: () => void appended++ },
    sequence: { next: () => seq++, peek: () => seq, close: () => {} },
    clock: fixedClock(0),
    timers: clock,
    log: silentLogger,
    statusIntervalMs: 0,
  })
  loop.start()
  const feed = (n: number): void => {
    for (let i = 0; i < n; i++) {
      uart.deliver(frame)
      clock.advance(1000)
    }
  }
  feed(3000) // warm-up: JIT, the claims object's shape
  const claimsObject = lastClaims
  const n = 10_000
  const perReading = allocated(() => feed(n)) / n
  loop.stop()
  assert.ok(appended >= 12_999, `one reading per frame (${appended})`) // the very first tick precedes the first frame
  assert.equal(lastClaims, claimsObject, 'the same claims object is sealed every time')
  // Measured about 1 KB (mostly the timer object of each tick's schedule, FakeClock's here, Node's Timeout on a device).
  assert.ok(perReading < 2048, `${Math.round(perReading)} bytes per reading`)
})
