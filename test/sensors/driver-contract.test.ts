/** One contract every SensorDriver passes against an emulator of its chip (the ESPHome/Zephyr pattern). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Bme280 } from '../../sensors/bme280/bme280.js'
import type { SensorDriver } from '../../sensors/driver.js'
import { FakeClock } from '../../sensors/fakes/fake-clock.js'
import { FakeGpio } from '../../sensors/fakes/fake-gpio.js'
import { FakeIio } from '../../sensors/fakes/fake-iio.js'
import { FakeUart } from '../../sensors/fakes/fake-uart.js'
import { Mhz19bEmulator } from '../../sensors/fakes/mhz19b-emulator.js'
import { Pms5003Emulator } from '../../sensors/fakes/pms5003-emulator.js'
import { Sds011Emulator } from '../../sensors/fakes/sds011-emulator.js'
import { Mhz19b } from '../../sensors/mhz19/mhz19b.js'
import { Pms5003 } from '../../sensors/pms5003/pms5003.js'
import { Ppd42ns } from '../../sensors/ppd42/ppd42ns.js'
import { READING_KEYS, type ReadingKey, Readings } from '../../sensors/readings.js'
import { Sds011 } from '../../sensors/sds011/sds011.js'

interface Rig {
  driver: SensorDriver
  clock: FakeClock
  /** The fields this driver writes. */
  fields: ReadingKey[]
  warmupMs: number
  /** Let the chip run for a while (time passes; async buses settle). */
  run(ms: number): Promise<void>
  /** The chip goes silent / its bus breaks from now on. */
  breakIt(): void
  /** The chip comes back. */
  fixIt(): void
  cleanup(): void
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r))
}

function stepper(clock: FakeClock, onStep?: (t: number) => void): (ms: number) => Promise<void> {
  return async (ms) => {
    for (let t = 0; t < ms; t += 100) {
      clock.advance(100)
      onStep?.(clock.nowMs())
      await settle()
    }
  }
}

const RIGS: Record<string, () => Rig> = {
  pms5003: () => {
    const clock = new FakeClock()
    const uart = new FakeUart()
    let chip = new Pms5003Emulator(uart, clock, { periodMs: 1000 })
    const driver = new Pms5003(uart, clock, { id: 'pm', timeoutMs: 5000 })
    return {
      driver,
      clock,
      fields: ['pm1', 'pm25', 'pm10', 'pm1Cf1', 'pm25Cf1', 'pm10Cf1', 'n03', 'n05', 'n1', 'n25', 'n5', 'n10'],
      warmupMs: 30_000,
      run: stepper(clock),
      breakIt: () => chip.close(),
      // Power comes back asleep: only the driver's retry (wake + mode) brings it back.
      fixIt: () => {
        chip = new Pms5003Emulator(uart, clock, { periodMs: 1000, asleep: true })
      },
      cleanup: () => chip.close(),
    }
  },
  sds011: () => {
    const clock = new FakeClock()
    const uart = new FakeUart()
    let chip = new Sds011Emulator(uart, clock)
    const driver = new Sds011(uart, clock, { id: 'sds', mode: 'passive', timeoutMs: 5000 })
    return {
      driver,
      clock,
      fields: ['pm25', 'pm10'],
      warmupMs: 30_000,
      run: stepper(clock),
      breakIt: () => chip.close(),
      fixIt: () => {
        chip = new Sds011Emulator(uart, clock, { asleep: true })
      },
      cleanup: () => chip.close(),
    }
  },
  mhz19b: () => {
    const clock = new FakeClock()
    const uart = new FakeUart()
    let chip = new Mhz19bEmulator(uart, clock)
    const driver = new Mhz19b(uart, clock, { id: 'co2', timeoutMs: 5000 })
    return {
      driver,
      clock,
      fields: ['co2'],
      warmupMs: 180_000,
      run: stepper(clock),
      breakIt: () => chip.close(),
      fixIt: () => {
        chip = new Mhz19bEmulator(uart, clock)
      },
      cleanup: () => chip.close(),
    }
  },
  ppd42ns: () => {
    const clock = new FakeClock()
    const gpio = new FakeGpio(1)
    let stuck = false
    // The chip: a 20 ms LOW pulse every 700 ms, unless "broken" (output stuck LOW).
    const driver = new Ppd42ns(gpio, clock, { id: 'dust', windowMs: 3000 })
    return {
      driver,
      clock,
      fields: ['lowRatio', 'particles'],
      warmupMs: 60_000,
      run: stepper(clock, (t) => {
        if (!stuck && t % 700 === 0) gpio.playLowPulses([[t * 1000, 20_000]])
      }),
      breakIt: () => {
        stuck = true
        gpio.set(0, clock.nowMs() * 1000)
      },
      fixIt: () => {
        stuck = false
        gpio.set(1, clock.nowMs() * 1000)
      },
      cleanup: () => {},
    }
  },
  bme280: () => {
    const clock = new FakeClock()
    const iio = new FakeIio('bme280', {
      in_temp_input: '23450\n',
      in_pressure_input: '100.904531250\n',
      in_humidityrelative_input: '45123\n',
    })
    const driver = new Bme280(iio, clock, { id: 'climate', pollMs: 1000 })
    const eio = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })
    return {
      driver,
      clock,
      fields: ['temperature', 'pressure', 'humidity'],
      warmupMs: 0,
      run: stepper(clock),
      breakIt: () => iio.attrs.set('in_temp_input', eio),
      fixIt: () => iio.attrs.set('in_temp_input', '23450\n'),
      cleanup: () => {},
    }
  },
}

for (const [name, make] of Object.entries(RIGS)) {
  test(`${name}: stopped → warming → fresh readings in its own fields only → stop`, async () => {
    const r = make()
    const out = new Readings()
    assert.equal(r.driver.sample(out), 'stopped')
    r.driver.start()
    r.driver.start() // idempotent
    if (r.warmupMs > 0) {
      await r.run(r.warmupMs - 1000)
      assert.equal(r.driver.sample(out), 'warming')
      assert.equal(r.driver.status.state, 'warming')
    }
    await r.run(1000)
    let fresh = 0
    for (let i = 0; i < 100 && fresh < 2; i++) {
      await r.run(100)
      const res = r.driver.sample(out)
      assert.ok(res === 'fresh' || res === 'none', `${res} (${r.driver.status.lastFault})`)
      if (res === 'fresh') fresh++
    }
    assert.equal(fresh, 2)
    for (const k of READING_KEYS) assert.equal(Number.isNaN(out[k]), !r.fields.includes(k), k)
    assert.equal(r.driver.status.health, 'ok')
    assert.equal(r.driver.status.state, 'running')
    r.driver.stop()
    r.driver.stop()
    assert.equal(r.driver.sample(out), 'stopped')
    r.cleanup()
  })

  test(`${name}: a broken chip goes degraded, then failed with backoff, and recovers after a retry`, async () => {
    const r = make()
    const out = new Readings()
    r.driver.start()
    await r.run(r.warmupMs + 1000)
    r.driver.sample(out)
    r.breakIt()
    const seen = new Set<string>()
    for (let i = 0; i < 2000 && r.driver.status.health !== 'failed'; i++) {
      await r.run(100)
      r.driver.sample(out)
      seen.add(r.driver.status.health)
    }
    assert.ok(seen.has('degraded'), [...seen].join())
    assert.equal(r.driver.status.health, 'failed')
    assert.equal(r.driver.sample(out), 'backoff')
    assert.ok(r.driver.status.retryAtMs > r.clock.nowMs())
    r.fixIt()
    let healed = false
    for (let i = 0; i < 5000 && !healed; i++) {
      await r.run(100)
      healed = r.driver.sample(out) === 'fresh'
    }
    assert.ok(healed, `still ${r.driver.status.health} ${r.driver.status.state} ${r.driver.status.lastFault}`)
    assert.equal(r.driver.status.health, 'ok')
    r.driver.stop()
    r.cleanup()
  })
}
