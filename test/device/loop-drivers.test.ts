/** The loop over the real PMS5003/SDS011/MH-Z19B drivers on fake UARTs with chip emulators: readings, an unplugged bus, garbage lines. */

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfig } from '../../device/config.js'
import { type DeviceHal, openSensors } from '../../device/drivers.js'
import { DeviceLoop } from '../../device/loop.js'
import { FakeClock } from '../../sensors/fakes/fake-clock.js'
import { FakeUart } from '../../sensors/fakes/fake-uart.js'
import { Mhz19bEmulator } from '../../sensors/fakes/mhz19b-emulator.js'
import { Pms5003Emulator } from '../../sensors/fakes/pms5003-emulator.js'
import { Sds011Emulator } from '../../sensors/fakes/sds011-emulator.js'
import { fixedClock } from '../../src/clock.js'
import { DaneelError } from '../../src/errors.js'
import { createLogger } from '../../src/log.js'
import { memorySequence } from './loop-fakes.js'

const config = parseConfig({
  version: 1,
  recipients: ['gw._device.example.com'],
  intervalSeconds: 5,
  statusIntervalSeconds: 0,
  faults: { degradedAfter: 2, failedAfter: 4, backoffMinSeconds: 10, backoffMaxSeconds: 40 },
  sensors: [
    { id: 'pm', type: 'pms5003', port: '/dev/ttyAMA0', warmupSeconds: 3 },
    { id: 'pm2', type: 'sds011', port: '/dev/ttyUSB0', warmupSeconds: 3 },
    { id: 'co2', type: 'mhz19b', port: '/dev/ttyUSB1', warmupSeconds: 3 },
  ],
})

function rig(unplugged: Set<string> = new Set()) {
  const clock = new FakeClock(0)
  const uarts = new Map<string, FakeUart>()
  const emulators: Array<{ close(): void }> = []
  const hal: DeviceHal = {
    uart: async (port) => {
      if (unplugged.has(port)) throw new DaneelError('ERR_UART', `cannot open ${port}: no such device`)
      const u = new FakeUart()
      uarts.set(port, u)
      if (port === '/dev/ttyAMA0') emulators.push(new Pms5003Emulator(u, clock, { periodMs: 1000 }))
      if (port === '/dev/ttyUSB0') emulators.push(new Sds011Emulator(u, clock, { periodMs: 1000 }))
      if (port === '/dev/ttyUSB1') emulators.push(new Mhz19bEmulator(u, clock))
      return u
    },
    gpio: () => Promise.reject(new Error('no gpio')),
    iio: () => Promise.reject(new Error('no iio')),
  }
  return { clock, uarts, emulators, hal }
}

async function run(r: ReturnType<typeof rig>, steps: (loop: DeviceLoop, sent: any[]) => Promise<void> | void) {
  const errors: string[] = []
  const set = await openSensors(config, r.hal, r.clock, (id) => errors.push(id))
  const sent: any[] = []
  const loop = new DeviceLoop({
    sensors: set.sensors,
    recipients: [{ name: 'gw._device.example.com', sealer: { seal: (c, { seq }) => JSON.stringify({ seq, ...c }) } }],
    outbox: { append: (_t, p) => sent.push(JSON.parse(Buffer.from(p).toString())) },
    sequence: memorySequence(),
    clock: fixedClock(0),
    timers: r.clock,
    log: createLogger({ level: 'silent' }),
    statusIntervalMs: 0,
  })
  loop.start()
  try {
    await steps(loop, sent)
  } finally {
    loop.stop()
    set.close()
    for (const e of r.emulators) e.close()
  }
  return { sent, errors }
}

test('captured frames from the emulated chips come out as sealed readings with their decoded values', async () => {
  const r = rig()
  const { sent } = await run(r, () => r.clock.advance(30_000))
  const by = (id: string) => sent.filter((m) => m.sensor === id && m.values !== undefined)
  // PyPMS captured frames: PMS5003 PM2.5 atm 8 / n0.3 210; SDS011 0.6 / 0.6; MH-Z19B 636 ppm.
  assert.ok(by('pm').length >= 4, `pm readings: ${by('pm').length}`)
  assert.equal(by('pm')[0].values.pm25, 8)
  assert.equal(by('pm')[0].values.n03, 210)
  assert.equal(by('pm')[0].model, 'pms5003')
  assert.equal(by('pm2')[0].values.pm25, 0.6)
  assert.equal(by('co2')[0].values.co2, 636)
  assert.ok(!sent.some((m) => m.values !== undefined && Object.values(m.values).some((v) => v === null)), 'no unmeasured fields published')
})

test('garbage on one line degrades, then fails that sensor only; the others keep reading', async () => {
  const r = rig()
  const { sent } = await run(r, () => {
    r.clock.advance(10_000)
    r.emulators[0]!.close() // the PMS stops talking...
    const u = r.uarts.get('/dev/ttyAMA0')!
    for (let i = 0; i < 60; i++) {
      u.deliver([0x42, 0x4d, 0x00, 0x1c, ...new Array(28).fill(0x55)]) // ...and sends frames with bad checksums
      r.clock.advance(1000)
    }
  })
  const pmStatus = sent.filter((m) => m.status?.sensor === 'pm').map((m) => m.status.health)
  // Health is read at each sample (every 5 s): with a bad frame a second the driver may pass through degraded
  // between two samples, so the stream shows failed, possibly preceded by degraded, and nothing healthy after.
  assert.ok(pmStatus.includes('failed'), pmStatus.join())
  assert.ok(pmStatus.indexOf('degraded') < pmStatus.indexOf('failed'))
  assert.ok(!pmStatus.includes('ok'))
  assert.equal(sent.find((m) => m.status?.health === 'failed').status.fault, 'E_CHECKSUM')
  const late = sent.filter((m) => m.seq > sent.length / 2)
  assert.ok(
    late.some((m) => m.sensor === 'pm2'),
    'SDS011 still read',
  )
  assert.ok(
    late.some((m) => m.sensor === 'co2'),
    'MH-Z19B still read',
  )
  assert.ok(!late.some((m) => m.sensor === 'pm' && m.values !== undefined), 'no PMS readings from garbage')
})

test('a bus that will not open is a failed sensor retried with backoff, and recovers when it appears', async () => {
  const unplugged = new Set(['/dev/ttyUSB1'])
  const r = rig(unplugged)
  const { sent, errors } = await run(r, async () => {
    r.clock.advance(20_000)
    unplugged.delete('/dev/ttyUSB1') // the USB adapter is plugged back in
    for (let i = 0; i < 40; i++) {
      r.clock.advance(1000)
      await new Promise((res) => setImmediate(res)) // let the async open settle
    }
  })
  assert.ok(errors.filter((e) => e === 'co2').length >= 1, 'open failures reported')
  const co2 = sent.filter((m) => m.sensor === 'co2' || m.status?.sensor === 'co2')
  assert.equal(co2[0].status.health, 'failed')
  assert.equal(co2[0].status.fault, 'E_IO')
  assert.ok(
    co2.some((m) => m.values?.co2 === 636),
    'reads once the bus opens',
  )
  assert.ok(
    sent.some((m) => m.sensor === 'pm' && m.values !== undefined),
    'the others never stopped',
  )
})

test('a hand-built config whose sensor type has no driver on its bus is ERR_CONFIG_INVALID before any bus opens', async () => {
  const r = rig()
  const [pm] = config.sensors
  assert.ok(pm !== undefined)
  const bad = { ...config, sensors: [{ ...pm, type: 'ppd42ns' }] }
  await assert.rejects(
    openSensors(bad, r.hal, r.clock, () => {}),
    (e: unknown) => e instanceof DaneelError && e.code === 'ERR_CONFIG_INVALID' && e.message.includes('no uart ppd42ns driver'),
  )
  assert.equal(r.uarts.size, 0)
})
