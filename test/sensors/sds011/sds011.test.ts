/** SDS011: decoder against captured frames (PyPMS) and the datasheet's commands; the driver against its emulator. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { FakeClock } from '../../../sensors/fakes/fake-clock.js'
import { FakeUart } from '../../../sensors/fakes/fake-uart.js'
import { Sds011Emulator } from '../../../sensors/fakes/sds011-emulator.js'
import { Readings } from '../../../sensors/readings.js'
import {
  SDS_CMD_MODE_ACTIVE,
  SDS_CMD_MODE_QUERY,
  SDS_CMD_QUERY,
  SDS_CMD_SLEEP,
  SDS_CMD_WAKE,
  sdsCmdWorkingPeriod,
  sdsCommand,
} from '../../../sensors/sds011/commands.js'
import { decodeSds011 } from '../../../sensors/sds011/decode.js'
import { Sds011 } from '../../../sensors/sds011/sds011.js'
import { fixturePath } from '../../../testkit/paths.js'

const fx = JSON.parse(readFileSync(fixturePath('sensors/sds011.json'), 'utf8'))
const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))
const h = (b: Uint8Array): string => Buffer.from(b).toString('hex')

test("captured frames decode to PyPMS's values (PM2.5 = PM10, tenths of µg/m³, little-endian)", () => {
  fx.frames.forEach((f: string, i: number) => {
    const d = decodeSds011(hex(f))
    assert.ok(d.ok, f)
    assert.equal(d.pm25, fx.expected[i].pm25)
    assert.equal(d.pm10, fx.expected[i].pm10)
    assert.equal(d.deviceId, fx.expected[i].deviceId)
  })
})

test("the datasheet's worked example: ID A160, PM2.5 123.6, PM10 261.8", () => {
  const d = decodeSds011(hex(fx.datasheet.hex))
  assert.ok(d.ok)
  assert.equal(d.pm25, fx.datasheet.pm25)
  assert.equal(d.pm10, fx.datasheet.pm10)
  assert.equal(d.deviceId, fx.datasheet.deviceId)
  assert.equal(h(sdsCommand(0x04, [], 0xa160)).slice(30, 34), 'a160', 'commands carry the id in the same order')
})

test('negative cases from PyPMS are values with the right code', () => {
  for (const n of fx.negative) {
    const d = decodeSds011(hex(n.hex))
    assert.equal(d.ok, false, n.source)
    if (!d.ok) assert.equal(d.code, n.code, n.source)
  }
})

test("command bytes equal the datasheet's (Nova SDS011 datasheet v1.3)", () => {
  assert.equal(h(SDS_CMD_QUERY), fx.commands.query)
  assert.equal(h(SDS_CMD_MODE_QUERY), fx.commands.modeQuery)
  assert.equal(h(SDS_CMD_MODE_ACTIVE), fx.commands.modeActive)
  assert.equal(h(SDS_CMD_SLEEP), fx.commands.sleep)
  assert.equal(h(SDS_CMD_WAKE), fx.commands.wake)
  assert.equal(h(sdsCmdWorkingPeriod(0)).slice(4, 10), '080100')
})

test('a reply frame (0xC5) decodes as a reply, not a reading', () => {
  const clock = new FakeClock()
  const uart = new FakeUart()
  const chip = new Sds011Emulator(uart, clock, { asleep: true })
  const sds = new Sds011(uart, clock, { id: 'sds', warmupMs: 0 })
  const out = new Readings()
  sds.start()
  assert.equal(chip.awake, true)
  assert.equal(sds.sample(out), 'none')
  clock.advance(30) // the C5 replies to wake and mode arrive
  assert.equal(sds.sample(out), 'none')
  assert.equal(sds.frame.type, 0xc5)
  clock.advance(1000)
  assert.equal(sds.sample(out), 'fresh')
  assert.equal(out.pm25, 0.6)
  chip.close()
})

test('query mode: wake, query mode, then a query per pollMs answered by the chip; sleep on stop', () => {
  const clock = new FakeClock()
  const uart = new FakeUart()
  const chip = new Sds011Emulator(uart, clock, { frames: fx.frames.map(hex) })
  const sds = new Sds011(uart, clock, { id: 'sds', mode: 'passive' })
  const out = new Readings()
  sds.start()
  assert.deepEqual(uart.writtenHex(), [fx.commands.wake, fx.commands.modeQuery])
  clock.advance(30_000)
  assert.equal(sds.sample(out), 'none')
  assert.equal(uart.writtenHex().at(-1), fx.commands.query)
  clock.advance(50)
  assert.equal(sds.sample(out), 'fresh')
  assert.equal(out.pm25, 0.6)
  assert.equal(chip.mode, 'query')
  clock.advance(2000)
  sds.sample(out)
  clock.advance(50)
  assert.equal(sds.sample(out), 'fresh')
  assert.equal(out.pm10, 0.9)
  sds.stop()
  assert.equal(uart.writtenHex().at(-1), fx.commands.sleep)
  assert.equal(chip.awake, false)
  chip.close()
})
