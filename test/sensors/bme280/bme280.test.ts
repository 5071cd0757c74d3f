/** BME280/BMP280/BME680 through IIO: the kernel drivers' units (incl. the bme680 hPa→kPa fix), polling, faults. */
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { findIio, openIio } from '../../../device/hal-linux/iio.js'
import { Bme280 } from '../../../sensors/bme280/bme280.js'
import { iioHumidityPct, iioPressureHpa, parseIioNumber } from '../../../sensors/bme280/iio-values.js'
import { FakeClock } from '../../../sensors/fakes/fake-clock.js'
import { FakeIio } from '../../../sensors/fakes/fake-iio.js'
import { Readings } from '../../../sensors/readings.js'
import { isDaneelError } from '../../../src/errors.js'
import { makeTempDir } from '../../../testkit/paths.js'

const tmp = makeTempDir('daneel-iio-')
after(() => tmp.cleanup())
/** Let the driver's chained async reads finish (FakeIio resolves at once; a few turns of the event loop suffice). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r))
}

// Texts as the kernel prints them ("%d.%09u" for fractions): bmp280-core.c divides Q24.8 Pa by 256000 (kPa) and
// prints humidity as comp*1000/1024 (milli-%RH); bme680_core.c prints Pa/1000 (kPa) and milli-%/1000 (%RH).
const BME280_TEXT = { name: 'bme280', in_temp_input: '23450\n', in_pressure_input: '100.904531250\n', in_humidityrelative_input: '45123\n' }
const BME680_TEXT = {
  name: 'bme680',
  in_temp_input: '21870\n',
  in_pressure_input: '99.711800000\n',
  in_humidityrelative_input: '62.314000000\n',
  in_resistance_input: '127345\n',
}

test('units: strict parsing; pressure in kPa or (old bme680 kernels) hPa; humidity milli-% (bmp280) vs % (bme680)', () => {
  assert.equal(parseIioNumber('100.904531250\n'), 100.90453125)
  assert.ok(Number.isNaN(parseIioNumber('')))
  assert.ok(Number.isNaN(parseIioNumber('12abc')))
  assert.equal(iioPressureHpa(100.90453125), 1009.0453125)
  assert.equal(iioPressureHpa(997.118), 997.118) // pre-2024 bme680: hPa (val2 = 100)
  assert.equal(iioHumidityPct('bme280', 45123), 45.123)
  assert.equal(iioHumidityPct('bme680', 62.314), 62.314)
})

test('BME280 on a temp-dir IIO tree: found by name, polled on its timer, values in °C, hPa, %RH', async () => {
  const root = join(tmp.dir, 'devices')
  mkdirSync(join(root, 'iio:device0'), { recursive: true })
  writeFileSync(join(root, 'iio:device0', 'name'), 'mcp3008\n')
  mkdirSync(join(root, 'iio:device1'), { recursive: true })
  for (const [k, v] of Object.entries(BME280_TEXT)) writeFileSync(join(root, 'iio:device1', k), v === 'bme280' ? 'bme280\n' : v)
  const iio = findIio(['bme280', 'bme680'], root)
  assert.equal(iio?.name, 'bme280')
  assert.equal(openIio('iio:device1', root).name, 'bme280')
  assert.throws(
    () => openIio('iio:device9', root),
    (e) => isDaneelError(e, 'ERR_SENSOR'),
  )
  const clock = new FakeClock()
  const bme = new Bme280(iio as NonNullable<typeof iio>, clock, { id: 'climate' })
  const out = new Readings()
  bme.start()
  assert.equal(bme.model, 'bme280')
  clock.advance(0)
  for (let i = 0; i < 20 && bme.sample(out) !== 'fresh'; i++) await new Promise((r) => setTimeout(r, 5))
  assert.equal(out.temperature, 23.45)
  assert.equal(out.pressure, 1009.0453125)
  assert.equal(out.humidity, 45.123)
  assert.ok(Number.isNaN(out.gasResistance))
  bme.stop()
  assert.equal(clock.pending, 0)
})

test('BME680: gas resistance in ohms, humidity already in %', async () => {
  const clock = new FakeClock()
  const iio = new FakeIio('bme680', BME680_TEXT)
  const bme = new Bme280(iio, clock, { id: 'climate' })
  const out = new Readings()
  bme.start()
  clock.advance(0)
  await settle()
  assert.equal(bme.sample(out), 'fresh')
  assert.equal(out.temperature, 21.87)
  assert.ok(Math.abs(out.pressure - 997.118) < 1e-9)
  assert.equal(out.humidity, 62.314)
  assert.equal(out.gasResistance, 127345)
  assert.equal(bme.sample(out), 'none')
  bme.stop()
})

test('EIO from the kernel is E_IO; after 3 degraded, after 10 failed with backoff; recovery heals', async () => {
  const clock = new FakeClock()
  const eio = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', errno: -5, syscall: 'read' })
  const iio = new FakeIio('bme280', { ...BME280_TEXT, in_temp_input: eio })
  const bme = new Bme280(iio, clock, { id: 'climate', pollMs: 1000, backoffMs: 60_000 })
  const out = new Readings()
  bme.start()
  clock.advance(0)
  await settle()
  assert.equal(bme.sample(out), 'fault')
  assert.equal(bme.status.lastFault, 'E_IO')
  for (let i = 0; i < 9; i++) {
    clock.advance(1000)
    await settle()
  }
  assert.equal(bme.status.health, 'failed')
  assert.equal(bme.sample(out), 'backoff')
  const reads = iio.reads
  clock.advance(30_000)
  await settle()
  assert.equal(iio.reads, reads, 'no reads during backoff')
  iio.attrs.set('in_temp_input', BME280_TEXT.in_temp_input)
  clock.advance(30_000)
  await settle()
  assert.equal(bme.sample(out), 'fresh')
  assert.equal(bme.status.health, 'ok')
  bme.stop()
})

test('implausible values (outside the Bosch clamps) are E_RANGE', async () => {
  const clock = new FakeClock()
  const iio = new FakeIio('bme280', { ...BME280_TEXT, in_humidityrelative_input: '145000\n' })
  const bme = new Bme280(iio, clock, { id: 'climate' })
  bme.start()
  clock.advance(0)
  await settle()
  assert.equal(bme.sample(new Readings()), 'fault')
  assert.equal(bme.status.lastFault, 'E_RANGE')
  bme.stop()
})
