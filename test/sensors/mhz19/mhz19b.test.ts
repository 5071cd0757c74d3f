/** MH-Z19B: decoder against captured frames (PyPMS) and the manual's commands; the ABC policy (off by default, on, leave). */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { summaryStatus } from '../../../device/status.js'
import { FakeClock } from '../../../sensors/fakes/fake-clock.js'
import { FakeUart } from '../../../sensors/fakes/fake-uart.js'
import { encodeMhzReading, Mhz19bEmulator } from '../../../sensors/fakes/mhz19b-emulator.js'
import { MHZ_CMD_ABC_OFF, MHZ_CMD_ABC_ON, MHZ_CMD_READ, MHZ_CMD_ZERO, mhzCmdRange, mhzCmdSpan } from '../../../sensors/mhz19/commands.js'
import { decodeMhz19, mhzChecksum } from '../../../sensors/mhz19/decode.js'
import { mhz19bDescriptor } from '../../../sensors/mhz19/descriptor.js'
import { Mhz19b } from '../../../sensors/mhz19/mhz19b.js'
import { Readings } from '../../../sensors/readings.js'
import { parseSensorConfig, SensorConfigContext } from '../../../sensors/sensor-config.js'
import { fixturePath } from '../../../testkit/paths.js'

const fx = JSON.parse(readFileSync(fixturePath('sensors/mhz19b.json'), 'utf8'))
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))
const h = (b: Uint8Array): string => Buffer.from(b).toString('hex')

test("captured frames decode to PyPMS's CO₂ values; the first is 636 ppm at TT 0x42 = 26 °C", () => {
  fx.frames.forEach((f: string, i: number) => {
    const d = decodeMhz19(hex(f))
    assert.ok(d.ok, f)
    assert.equal(d.co2, fx.expected[i].co2)
  })
  const d = decodeMhz19(hex(fx.frames[0]))
  assert.ok(d.ok && d.sensorTemp === 26)
})

test('negative cases are values with the right code', () => {
  for (const n of fx.negative) {
    const d = decodeMhz19(hex(n.hex))
    assert.equal(d.ok, false, n.source)
    if (!d.ok) assert.equal(d.code, n.code, n.source)
  }
})

test("command bytes equal the manual's (Winsen MH-Z19B manual v1.6)", () => {
  assert.equal(h(MHZ_CMD_READ), fx.commands.read)
  assert.equal(h(MHZ_CMD_ZERO), fx.commands.zero)
  assert.equal(h(mhzCmdSpan(2000)), fx.commands.span2000)
  assert.equal(h(MHZ_CMD_ABC_ON), fx.commands.abcOn)
  assert.equal(h(MHZ_CMD_ABC_OFF), fx.commands.abcOff)
  assert.equal(h(mhzCmdRange(5000)), fx.commands.range5000)
  assert.equal(h(mhzCmdRange(2000)), fx.commands.range2000)
})

test("checksum: the masked two's complement is 0 (not PyPMS's 256) when bytes 1..7 sum to 0 mod 256", () => {
  const f = Uint8Array.of(0xff, 0x86, 0x00, 0x80, 0x80, 0, 0, 0, 0) // 0x86 + 0x80 + 0x80 = 0x186 → sum & 0xFF = 0x86
  assert.equal(mhzChecksum(f, 0), 0x7a)
  const z = Uint8Array.of(0xff, 0x86, 0x7a, 0, 0, 0, 0, 0, 0) // 0x86 + 0x7a = 0x100
  assert.equal(mhzChecksum(z, 0), 0)
  z[8] = 0
  assert.ok(decodeMhz19(z).ok)
})

test('ABC is switched off at start unless configured; range set when configured; reads every pollMs', () => {
  const clock = new FakeClock()
  const uart = new FakeUart()
  const chip = new Mhz19bEmulator(uart, clock, { frames: fx.frames.map(hex) })
  const co2 = new Mhz19b(uart, clock, { id: 'co2' })
  const out = new Readings()
  assert.equal(chip.abc, true, 'factory default')
  co2.start()
  assert.equal(chip.abc, false)
  assert.deepEqual(uart.writtenHex(), [fx.commands.abcOff])
  clock.advance(179_999)
  assert.equal(co2.sample(out), 'warming')
  clock.advance(1)
  assert.equal(co2.sample(out), 'none')
  assert.equal(uart.writtenHex().at(-1), fx.commands.read)
  clock.advance(50)
  assert.equal(co2.sample(out), 'fresh')
  assert.equal(out.co2, 636)
  chip.close()

  const uart2 = new FakeUart()
  const chip2 = new Mhz19bEmulator(uart2, clock)
  const co2b = new Mhz19b(uart2, clock, { id: 'co2', abc: true, range: 2000 })
  co2b.start()
  assert.deepEqual(uart2.writtenHex(), [fx.commands.abcOn, fx.commands.range2000])
  assert.equal(chip2.abc, true)
  assert.equal(chip2.range, 2000)
  chip2.close()
})

test('preheat zeros are not readings; an impossible ppm is E_RANGE', () => {
  const clock = new FakeClock()
  const uart = new FakeUart()
  const co2 = new Mhz19b(uart, clock, { id: 'co2', warmupMs: 0 })
  const out = new Readings()
  co2.start()
  co2.sample(out)
  const zero = Uint8Array.of(0xff, 0x86, 0, 0, 0, 0, 0, 0, 0x7a)
  uart.deliver(zero)
  assert.equal(co2.sample(out), 'none')
  uart.deliver(encodeMhzReading(60_000))
  assert.equal(co2.sample(out), 'fault')
  assert.equal(co2.status.lastFault, 'E_RANGE')
})

test("ABC policy 'leave' sends nothing at wake; status says the policy and what was sent", () => {
  const clock = new FakeClock()
  const uart = new FakeUart()
  const chip = new Mhz19bEmulator(uart, clock)
  const co2 = new Mhz19b(uart, clock, { id: 'co2', abc: 'leave', warmupMs: 0 })
  assert.deepEqual(co2.status.chip, { abc: 'leave', abcSent: 'none' })
  co2.start()
  assert.deepEqual(uart.writtenHex(), [], 'no 0x79 on the wire')
  assert.equal(chip.abc, true, 'the chip keeps its own (factory) setting')
  assert.deepEqual(co2.status.chip, { abc: 'leave', abcSent: 'none' })
  chip.close()

  for (const [abc, sent, wire] of [
    ['off', 'off', fx.commands.abcOff],
    ['on', 'on', fx.commands.abcOn],
  ] as const) {
    const u = new FakeUart()
    const d = new Mhz19b(u, clock, { id: 'co2', abc })
    assert.deepEqual(d.status.chip, { abc, abcSent: 'none' }, 'nothing sent before the first wake')
    d.start()
    assert.deepEqual(u.writtenHex(), [wire])
    assert.deepEqual(d.status.chip, { abc, abcSent: sent })
    const msg = summaryStatus(0, 0, [d.status]) as { status: { sensors: { chip?: object }[] } }
    assert.deepEqual(msg.status.sensors[0]?.chip, { abc, abcSent: sent }, 'the periodic status message carries it')
  }
})

test("config: abc is 'on' | 'off' | 'leave', default 'off'; true/false from older configs mean on/off", () => {
  const parse = (abc?: unknown) =>
    parseSensorConfig(
      { id: 'co2', type: 'mhz19b', port: '/dev/ttyUSB0', ...(abc === undefined ? {} : { abc }) },
      0,
      new SensorConfigContext(10),
    )
  assert.equal(parse().abc, 'off')
  assert.equal(parse('leave').abc, 'leave')
  assert.equal(parse('on').abc, 'on')
  assert.equal(parse(true).abc, 'on')
  assert.equal(parse(false).abc, 'off')
  assert.throws(
    () => parse('auto'),
    (e: Error) => /config field sensors\[0\]\.abc: must be 'on' or 'off' or 'leave', not "auto"/.test(e.message),
  )
  assert.throws(() => parse(1), /sensors\[0\]\.abc/)
  const cfg = parse('leave')
  if (cfg.bus !== 'uart') throw new Error('uart expected')
  const u = new FakeUart()
  const d = mhz19bDescriptor.create(u, new FakeClock(), cfg, {})
  d.start()
  assert.deepEqual(u.writtenHex(), [])
  assert.deepEqual(d.status.chip, { abc: 'leave', abcSent: 'none' })
})
