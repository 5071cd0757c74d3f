/** PPD42NS: the published curve, LOW-pulse accumulation over synthetic pulse trains, the driver on fake time. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { FakeClock } from '../../../sensors/fakes/fake-clock.js'
import { FakeGpio } from '../../../sensors/fakes/fake-gpio.js'
import { Ppd42Emulator } from '../../../sensors/fakes/ppd42-emulator.js'
import { LowPulseAccumulator, ppdConcentration, ppdMassUgM3 } from '../../../sensors/ppd42/occupancy.js'
import { Ppd42ns } from '../../../sensors/ppd42/ppd42ns.js'
import { Readings } from '../../../sensors/readings.js'

test('the curve (Seeed Grove_Dust_Sensor.ino): 0% → 0.62, 1% → 517.92, 10% → 5,040.62 pcs/0.01 ft³', () => {
  assert.equal(ppdConcentration(0), 0.62)
  assert.ok(Math.abs(ppdConcentration(1) - 517.92) < 1e-9)
  assert.ok(Math.abs(ppdConcentration(10) - (1100 - 380 + 5200 + 0.62)) < 1e-9)
})

test('mass estimate (Drexel 2009): 1000 pcs/0.01 ft³ on the PM2.5 channel is about 2.08 µg/m³', () => {
  const m = ppdMassUgM3(1000, 'pm25')
  // 1000 × 3531.5 × 1.65e12 × (4/3)π(0.44e-6)³
  assert.ok(Math.abs(m - 2.079) < 0.01, String(m))
  assert.ok(ppdMassUgM3(1000, 'pm10') > m)
})

test('accumulator: sums LOW time of completed pulses; a pulse under way at start is not guessed at', () => {
  const a = new LowPulseAccumulator()
  a.reset(0) // starts LOW: that pulse's start is unknown
  a.edge(1, 5_000)
  a.edge(0, 10_000)
  a.edge(1, 40_000) // 30 ms
  a.edge(0, 100_000)
  a.edge(0, 110_000) // a missed rising edge: keep the first fall
  a.edge(1, 150_000) // 50 ms
  assert.equal(a.lowUs, 80_000)
  assert.equal(a.pulses, 2)
  a.take()
  assert.equal(a.lowUs, 0)
  assert.equal(a.level, 1)
})

test("property: for any pulse train, summed LOW time equals the train's LOW total", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 100_000 })), { maxLength: 200 }),
      (gaps) => {
        const g = new FakeGpio(1)
        const a = new LowPulseAccumulator()
        a.reset(1)
        g.watch((l, t) => a.edge(l, t))
        let t = 0
        let total = 0
        for (const [high, low] of gaps) {
          t += high
          g.set(0, t)
          t += low
          g.set(1, t)
          total += low
        }
        assert.equal(a.lowUs, total)
        assert.equal(a.pulses, gaps.length)
      },
    ),
  )
})

test("driver: 60 s warm-up, then one reading per 30 s window: 3% LOW time gives the curve's value", () => {
  const clock = new FakeClock(0)
  const gpio = new FakeGpio(1)
  const ppd = new Ppd42ns(gpio, clock, { id: 'dust' })
  const out = new Readings()
  ppd.start()
  assert.ok(gpio.watching)
  clock.advance(59_000)
  assert.equal(ppd.sample(out), 'warming')
  clock.advance(1_000)
  assert.equal(ppd.sample(out), 'none') // the window opens now (t = 60 s)
  // 30 pulses of 30 ms within the next 30 s: 900 ms LOW = 3%.
  const start = 60_000_000
  gpio.playLowPulses(Array.from({ length: 30 }, (_, i) => [start + 500_000 + i * 900_000, 30_000] as const))
  clock.advance(29_999)
  assert.equal(ppd.sample(out), 'none')
  clock.advance(1)
  assert.equal(ppd.sample(out), 'fresh')
  assert.ok(Math.abs(out.lowRatio - 3) < 1e-9, String(out.lowRatio))
  assert.ok(Math.abs(out.particles - ppdConcentration(3)) < 1e-9)
  assert.equal(ppd.sample(out), 'none', 'the next window has just opened')
  ppd.stop()
  assert.equal(gpio.watching, false)
})

test('driver: a window stuck LOW with no edge is E_RANGE; clean air (no pulses, HIGH) is a valid 0%', () => {
  const clock = new FakeClock(0)
  const gpio = new FakeGpio(1)
  const ppd = new Ppd42ns(gpio, clock, { id: 'dust', warmupMs: 0, windowMs: 1000 })
  const out = new Readings()
  ppd.start()
  clock.advance(1000)
  assert.equal(ppd.sample(out), 'fresh')
  assert.equal(out.lowRatio, 0)
  gpio.set(0, 1_000_000)
  clock.advance(1000)
  assert.equal(ppd.sample(out), 'fresh', 'the fall was an edge in this window')
  clock.advance(1000)
  assert.equal(ppd.sample(out), 'fault')
  assert.equal(ppd.status.lastFault, 'E_RANGE')
})

test('driver: an edge source that died (read throws) is E_IO at the end of the window', () => {
  const clock = new FakeClock(0)
  const gpio = new FakeGpio(1)
  const ppd = new Ppd42ns(gpio, clock, { id: 'dust', warmupMs: 0, windowMs: 1000 })
  ppd.start()
  gpio.read = () => {
    throw new Error('gpiomon exited')
  }
  clock.advance(1000)
  assert.equal(ppd.sample(new Readings()), 'fault')
  assert.equal(ppd.status.lastFault, 'E_IO')
})

test('emulator: the driver reads back the LOW ratio the emulator produces (2% and a change to 5%)', () => {
  const clock = new FakeClock(0)
  const gpio = new FakeGpio(1)
  let ratio = 2
  const chip = new Ppd42Emulator(gpio, clock, { ratioPct: () => ratio })
  const ppd = new Ppd42ns(gpio, clock, { id: 'dust', warmupMs: 0, windowMs: 30_000 })
  const out = new Readings()
  ppd.start()
  ppd.sample(out)
  clock.advance(30_000)
  assert.equal(ppd.sample(out), 'fresh')
  assert.ok(Math.abs(out.lowRatio - 2) < 0.1, String(out.lowRatio))
  ratio = 5
  clock.advance(30_000)
  ppd.sample(out)
  clock.advance(30_000)
  assert.equal(ppd.sample(out), 'fresh')
  assert.ok(Math.abs(out.lowRatio - 5) < 0.1, String(out.lowRatio))
  assert.ok(Math.abs(out.particles - ppdConcentration(out.lowRatio)) < 1e-9)
  chip.close()
  assert.equal(clock.pending, 0)
})
