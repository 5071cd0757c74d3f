/** The sensor descriptors: every chip folder's descriptor is registered, validates its own settings, and builds its driver. */

import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { SensorConfig, SensorDescriptor } from '../../sensors/descriptor.js'
import type { SensorDriver } from '../../sensors/driver.js'
import { FakeClock } from '../../sensors/fakes/fake-clock.js'
import { FakeGpio } from '../../sensors/fakes/fake-gpio.js'
import { FakeIio } from '../../sensors/fakes/fake-iio.js'
import { FakeUart } from '../../sensors/fakes/fake-uart.js'
import { findSensor, SENSOR_DESCRIPTORS, SENSOR_TYPES } from '../../sensors/registry.js'
import { BUS_FIELDS, COMMON_FIELDS_LIST, parseSensorConfig, SensorConfigContext } from '../../sensors/sensor-config.js'
import { DaneelError } from '../../src/errors.js'

/** build/sensors, beside this compiled file's build/test/sensors. */
const SENSORS_DIR = fileURLToPath(new URL('../../sensors/', import.meta.url))
const HEALTH = { degradedAfter: 3, failedAfter: 10, backoffMs: 5000, maxBackoffMs: 300_000 }

/** The smallest valid sensor of a type: its bus address and nothing else. */
function minimal(type: string, d: SensorDescriptor): Record<string, unknown> {
  const address = { uart: { port: `/dev/tty-${type}` }, gpio: { pin: 17 }, iio: { iio: 'iio:device0' } }[d.bus]
  return { id: type, type, ...address }
}

const parse = (raw: unknown, interval = 10): SensorConfig => parseSensorConfig(raw, 0, new SensorConfigContext(interval))

function build(d: SensorDescriptor, cfg: SensorConfig): SensorDriver {
  const clock = new FakeClock()
  if (d.bus === 'uart' && cfg.bus === 'uart') return d.create(new FakeUart(), clock, cfg, HEALTH)
  if (d.bus === 'gpio' && cfg.bus === 'gpio') return d.create(new FakeGpio(1), clock, cfg, HEALTH)
  if (d.bus === 'iio' && cfg.bus === 'iio') return d.create(new FakeIio(cfg.type), clock, cfg, HEALTH)
  throw new Error(`${cfg.type}: descriptor bus ${d.bus}, config bus ${cfg.bus}`)
}

test('every sensors/<chip>/descriptor.ts is in the registry, and the registry holds nothing else', async () => {
  const found: SensorDescriptor[] = []
  for (const chip of readdirSync(SENSORS_DIR)) {
    const file = `${SENSORS_DIR}${chip}/descriptor.js`
    if (!existsSync(file)) continue
    const mod = (await import(file)) as Record<string, unknown>
    const exported = Object.values(mod)
    assert.equal(exported.length, 1, `${chip}/descriptor.ts exports one descriptor`)
    const d = exported[0] as SensorDescriptor
    assert.ok(SENSOR_DESCRIPTORS.includes(d), `${chip}/descriptor.ts is not listed in sensors/registry.ts`)
    found.push(d)
  }
  assert.ok(found.length >= 5, `only ${found.length} descriptors found under ${SENSORS_DIR}`)
  assert.equal(found.length, SENSOR_DESCRIPTORS.length, 'the registry lists a descriptor that is not in a chip folder')
})

test('types are unique; no chip setting shadows a common or bus field', () => {
  const all = SENSOR_DESCRIPTORS.flatMap((d) => d.types)
  assert.equal(new Set(all).size, all.length, `a type is claimed twice: ${all.join(', ')}`)
  assert.deepEqual(SENSOR_TYPES, all)
  const reserved = new Set<string>([...COMMON_FIELDS_LIST, ...Object.values(BUS_FIELDS).flat()])
  for (const d of SENSOR_DESCRIPTORS) {
    for (const k of Object.keys(d.settings)) assert.ok(!reserved.has(k), `${d.label} setting '${k}' shadows a common or bus field`)
    for (const t of d.types) assert.equal(findSensor(t), d)
  }
})

test('every type: defaults filled in from its descriptor, the driver built on its bus, the config round-trips', () => {
  for (const d of SENSOR_DESCRIPTORS) {
    for (const type of d.types) {
      const cfg = parse(minimal(type, d))
      assert.equal(cfg.bus, d.bus, type)
      assert.equal(cfg.warmupSeconds, d.warmupSeconds, type)
      for (const k of Object.keys(d.settings)) assert.notEqual(cfg[k], undefined, `${type}.${k} has no default`)
      // The parsed form is itself a valid config (bus included) that parses to the same thing.
      assert.deepEqual(parse(JSON.parse(JSON.stringify(cfg))), cfg, type)
      const driver = build(d, cfg)
      assert.equal(driver.id, type)
      assert.equal(driver.model, type)
      assert.equal(driver.status.state, 'stopped')
    }
  }
})

test('a field of another bus or chip names who takes it; a bus that disagrees with the type is rejected', () => {
  const rejects = (raw: Record<string, unknown>, field: string, why: RegExp): void =>
    assert.throws(
      () => parse(raw),
      (err: unknown) =>
        err instanceof DaneelError &&
        err.code === 'ERR_CONFIG_INVALID' &&
        err.message.startsWith(`config field ${field}: `) &&
        why.test(err.message),
    )
  rejects(
    { id: 'co2', type: 'mhz19b', port: '/dev/x', mode: 'active' },
    'sensors[0].mode',
    /only applies to PMS5003\/PMS7003 and SDS011 sensors, not mhz19b/,
  )
  rejects({ id: 'd', type: 'ppd42ns', pin: 4, port: '/dev/x' }, 'sensors[0].port', /only applies to UART sensors, not ppd42ns/)
  rejects({ id: 't', type: 'bme280', iio: 'iio:device0', windowSeconds: 5 }, 'sensors[0].windowSeconds', /only applies to PPD42NS/)
  rejects({ id: 'pm', type: 'pms5003', bus: 'gpio', port: '/dev/x' }, 'sensors[0].bus', /pms5003 is a uart sensor, not "gpio"/)
  rejects({ id: 'pm', type: 'sds011', port: '/dev/x', mode: 'query' }, 'sensors[0].mode', /must be 'active' or 'passive', not "query"/)
  assert.equal(parse({ id: 'pm', type: 'pms5003', bus: 'uart', port: '/dev/x' }).bus, 'uart')
})
