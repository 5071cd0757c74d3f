/** The device config schema: good configs (every file in examples/), bad ones each naming its field. */

import assert from 'node:assert/strict'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig, parseConfig } from '../../device/config.js'
import { DaneelError } from '../../src/errors.js'
import { makeTempDir, repoPath } from '../../testkit/paths.js'

const base = (): Record<string, unknown> => ({
  version: 1,
  recipients: ['gw._device.example.com'],
  sensors: [{ id: 'pm', type: 'pms5003', port: '/dev/ttyAMA0' }],
})

function rejects(mutate: (c: Record<string, unknown>) => void, field: string, why?: RegExp): void {
  const c = base()
  mutate(c)
  assert.throws(
    () => parseConfig(c),
    (err: unknown) => {
      assert.ok(err instanceof DaneelError, `not a DaneelError: ${String(err)}`)
      assert.equal(err.code, 'ERR_CONFIG_INVALID')
      assert.ok(err.message.includes(`config field ${field}:`), `'${err.message}' does not name ${field}`)
      if (why !== undefined) assert.match(err.message, why)
      return true
    },
  )
}

test('every example config is valid', () => {
  const dir = repoPath('examples')
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'))
  assert.ok(files.length >= 3)
  for (const f of files) {
    const c = loadConfig(join(dir, f))
    assert.equal(c.version, 1, f)
    assert.ok(c.sensors.length > 0, f)
  }
})

test('defaults are filled in', () => {
  const c = parseConfig(base())
  assert.equal(c.profile, 'compact')
  assert.equal(c.intervalSeconds, 10)
  assert.deepEqual(c.faults, { degradedAfter: 3, failedAfter: 10, backoffMinSeconds: 5, backoffMaxSeconds: 300 })
  const s = c.sensors[0]!
  assert.equal(s.baud, 9600)
  assert.equal(s.mode, 'active')
  assert.equal(s.warmupSeconds, 30)
  assert.equal(s.intervalSeconds, 10)
})

test('recipient names are normalised (case, trailing dot)', () => {
  const c = parseConfig({ ...base(), recipients: ['GW._device.Example.COM.'] })
  assert.deepEqual(c.recipients, ['gw._device.example.com'])
})

test('MH-Z19B ABC is off unless configured; PPD42NS window defaults within the interval', () => {
  const c = parseConfig({
    ...base(),
    sensors: [
      { id: 'co2', type: 'mhz19b', port: '/dev/ttyS0' },
      { id: 'd', type: 'ppd42ns', pin: 4, intervalSeconds: 5 },
    ],
  })
  assert.equal(c.sensors[0]!.abc, 'off', "the default policy: 'off', as before 'leave' existed")
  assert.equal(c.sensors[0]!.warmupSeconds, 180)
  assert.equal(c.sensors[1]!.windowSeconds, 5)
})

test('bad configs name the offending field', () => {
  rejects((c) => {
    c.version = 2
  }, 'version')
  rejects((c) => {
    delete c.recipients
  }, 'recipients')
  rejects(
    (c) => {
      c.recipients = ['not a name']
    },
    'recipients[0]',
    /not a valid DNS name/,
  )
  rejects(
    (c) => {
      c.recipients = ['a.example', 'A.example.']
    },
    'recipients',
    /distinct/,
  )
  rejects((c) => {
    c.recipients = [7]
  }, 'recipients[0]')
  rejects((c) => {
    c.profile = 'jose'
  }, 'profile')
  rejects(
    (c) => {
      c.intervalSeconds = 'ten'
    },
    'intervalSeconds',
    /number/,
  )
  rejects(
    (c) => {
      c.intervalSeconds = 0
    },
    'intervalSeconds',
    /between/,
  )
  rejects((c) => {
    c.sensors = []
  }, 'sensors')
  rejects(
    (c) => {
      c.sensorz = []
    },
    'sensorz',
    /unknown field/,
  )
  rejects((c) => {
    c.faults = { degradedAfter: 5, failedAfter: 2 }
  }, 'faults.failedAfter')
  rejects((c) => {
    c.faults = { backoffMinSeconds: 10, backoffMaxSeconds: 1 }
  }, 'faults.backoffMaxSeconds')
  rejects(
    (c) => {
      c.faults = { retries: 1 }
    },
    'faults.retries',
    /unknown/,
  )
  rejects(
    (c) => {
      c.sequenceBlock = 1.5
    },
    'sequenceBlock',
    /whole/,
  )
  rejects((c) => {
    c.drainSeconds = -1
  }, 'drainSeconds')
})

test('bad sensors name the sensor index and field', () => {
  const sensor = (s: Record<string, unknown>) => (c: Record<string, unknown>) => {
    c.sensors = [s]
  }
  rejects(sensor({ type: 'pms5003', port: '/dev/x' }), 'sensors[0].id', /required/)
  rejects(sensor({ id: 'PM 1', type: 'pms5003', port: '/dev/x' }), 'sensors[0].id')
  rejects(sensor({ id: 'pm', type: 'dht22' }), 'sensors[0].type', /one of/)
  rejects(sensor({ id: 'pm', type: 'pms5003' }), 'sensors[0].port', /required/)
  rejects(sensor({ id: 'pm', type: 'pms5003', port: '/dev/x', baud: 115200 }), 'sensors[0].baud', /9600/)
  rejects(sensor({ id: 'pm', type: 'pms5003', port: '/dev/x', mode: 'fast' }), 'sensors[0].mode')
  rejects(sensor({ id: 'pm', type: 'pms5003', port: '/dev/x', pin: 4 }), 'sensors[0].pin', /only applies/)
  rejects(sensor({ id: 'pm', type: 'pms5003', port: '/dev/x', abc: true }), 'sensors[0].abc', /only applies/)
  rejects(sensor({ id: 'co2', type: 'mhz19b', port: '/dev/x', abc: 'yes' }), 'sensors[0].abc')
  rejects(sensor({ id: 'co2', type: 'mhz19b', port: '/dev/x', mode: 'active' }), 'sensors[0].mode')
  rejects(sensor({ id: 'd', type: 'ppd42ns', pin: 54 }), 'sensors[0].pin', /between 0 and 53/)
  rejects(sensor({ id: 'd', type: 'ppd42ns', pin: 4, intervalSeconds: 10, windowSeconds: 20 }), 'sensors[0].windowSeconds')
  rejects(sensor({ id: 't', type: 'bme280', iio: 'device0' }), 'sensors[0].iio')
  rejects(sensor({ id: 'pm', type: 'sds011', port: '/dev/x', duty: true }), 'sensors[0].duty', /does not fit in intervalSeconds \(10\)/)
  rejects(sensor({ id: 'pm', type: 'sds011', port: '/dev/x', duty: 'on' }), 'sensors[0].duty', /must be false, true or/)
  rejects(
    sensor({ id: 'pm', type: 'sds011', port: '/dev/x', intervalSeconds: 300, duty: { window: 5 } }),
    'sensors[0].duty.window',
    /unknown/,
  )
  rejects(
    sensor({ id: 'pm', type: 'sds011', port: '/dev/x', intervalSeconds: 300, duty: { windowSeconds: 0 } }),
    'sensors[0].duty.windowSeconds',
  )
  rejects(
    sensor({ id: 'pm', type: 'pms5003', port: '/dev/x', windowStats: ['mean'] }),
    'sensors[0].windowStats[0]',
    /'min', 'max', 'median'/,
  )
  rejects(
    sensor({ id: 'co2', type: 'mhz19b', port: '/dev/x', duty: false }),
    'sensors[0].duty',
    /only applies to PMS5003\/PMS7003 and SDS011/,
  )
  rejects(sensor({ id: 't', type: 'bme280', iio: 'iio:device0', prot: 1 }), 'sensors[0].prot', /unknown/)
  rejects(
    (c) => {
      c.sensors = [
        { id: 'a', type: 'sds011', port: '/dev/x' },
        { id: 'b', type: 'pms5003', port: '/dev/x' },
      ]
    },
    'sensors[1].port',
    /used by another/,
  )
  rejects(
    (c) => {
      c.sensors = [
        { id: 'a', type: 'sds011', port: '/dev/x' },
        { id: 'a', type: 'pms5003', port: '/dev/y' },
      ]
    },
    'sensors[1].id',
    /used by another/,
  )
})

test('loadConfig: unreadable is ERR_IO, not JSON is ERR_CONFIG_INVALID naming the file', () => {
  const { dir, cleanup } = makeTempDir()
  try {
    assert.throws(
      () => loadConfig(join(dir, 'missing.json')),
      (e: unknown) => e instanceof DaneelError && e.code === 'ERR_IO',
    )
    const p = join(dir, 'bad.json')
    writeFileSync(p, '{ "version": 1, ')
    assert.throws(
      () => loadConfig(p),
      (e: unknown) => e instanceof DaneelError && e.code === 'ERR_CONFIG_INVALID' && e.message.includes(p),
    )
    writeFileSync(p, JSON.stringify({ ...base(), profile: 'x' }))
    assert.throws(
      () => loadConfig(p),
      (e: unknown) => e instanceof DaneelError && e.message.includes('config field profile'),
    )
  } finally {
    cleanup()
  }
})

test('duty: on by default once the interval is at least 2 x (warm-up + window); explicit values; false', () => {
  const pm = (extra: Record<string, unknown>) =>
    parseConfig({ ...base(), sensors: [{ id: 'pm', type: 'sds011', port: '/dev/x', ...extra }] }).sensors[0]
  assert.equal(pm({ intervalSeconds: 79 })?.duty, false)
  assert.deepEqual(pm({ intervalSeconds: 80 })?.duty, { warmupSeconds: 30, windowSeconds: 10 })
  assert.deepEqual(pm({ intervalSeconds: 300, warmupSeconds: 20 })?.duty, { warmupSeconds: 20, windowSeconds: 10 })
  assert.deepEqual(pm({ intervalSeconds: 45, duty: { windowSeconds: 15 } })?.duty, { warmupSeconds: 30, windowSeconds: 15 })
  assert.equal(pm({ intervalSeconds: 300, duty: false })?.duty, false)
  assert.deepEqual(pm({ intervalSeconds: 300, windowStats: ['median', 'min', 'min'] })?.windowStats, ['median', 'min'])
})

test('a config with a sensor on each bus kind round-trips: the parsed form parses to itself', () => {
  const c = parseConfig({
    ...base(),
    sensors: [
      { id: 'pm', type: 'pms7003', port: '/dev/ttyAMA0', mode: 'passive' },
      { id: 'd', type: 'ppd42ns', pin: 4, intervalSeconds: 20, windowSeconds: 15 },
      { id: 't', type: 'bme680', iio: '/sys/bus/iio/devices/iio:device1', warmupSeconds: 2 },
    ],
  })
  assert.deepEqual(
    c.sensors.map((s) => s.bus),
    ['uart', 'gpio', 'iio'],
  )
  assert.deepEqual(c.sensors[0], {
    id: 'pm',
    type: 'pms7003',
    bus: 'uart',
    intervalSeconds: 10,
    warmupSeconds: 30,
    port: '/dev/ttyAMA0',
    baud: 9600,
    mode: 'passive',
    duty: false, // a 10 s interval leaves no time to sleep: 2 x (30 s warm-up + 10 s window) is 80 s
    windowStats: [],
  })
  assert.deepEqual(c.sensors[1], {
    id: 'd',
    type: 'ppd42ns',
    bus: 'gpio',
    intervalSeconds: 20,
    warmupSeconds: 60,
    pin: 4,
    windowSeconds: 15,
  })
  assert.deepEqual(c.sensors[2], {
    id: 't',
    type: 'bme680',
    bus: 'iio',
    intervalSeconds: 10,
    warmupSeconds: 2,
    iio: '/sys/bus/iio/devices/iio:device1',
  })
  assert.deepEqual(parseConfig(JSON.parse(JSON.stringify(c))), c)
})
