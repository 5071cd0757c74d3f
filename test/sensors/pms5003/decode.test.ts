/** PMS5003 decoder against frames captured from a real sensor (PyPMS) and the manual's command bytes. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import {
  PMS_CMD_MODE_ACTIVE,
  PMS_CMD_MODE_PASSIVE,
  PMS_CMD_PASSIVE_READ,
  PMS_CMD_SLEEP,
  PMS_CMD_WAKE,
} from '../../../sensors/pms5003/commands.js'
import { decodePms5003, PmsFrame, pmsConsistent } from '../../../sensors/pms5003/decode.js'
import { fixturePath } from '../../../testkit/paths.js'

const fx = JSON.parse(readFileSync(fixturePath('sensors/pms5003.json'), 'utf8'))
const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))

test('captured frames decode to the values PyPMS recorded from the same capture', () => {
  assert.equal(fx.frames.length, 10)
  fx.frames.forEach((h: string, i: number) => {
    const d = decodePms5003(hex(h))
    assert.ok(d.ok, `frame ${i}`)
    const e = fx.expected[i]
    assert.equal(d.pm1Cf1, e.pm1Cf1)
    assert.equal(d.pm25Cf1, e.pm25Cf1)
    assert.equal(d.pm10Cf1, e.pm10Cf1)
    assert.equal(d.pm1, e.pm1)
    assert.equal(d.pm25, e.pm25)
    assert.equal(d.pm10, e.pm10)
    // PyPMS publishes counts per cm³: the frame's count per 0.1 L divided by 100.
    assert.equal(d.n03 / 100, e.n03_per_cm3)
    assert.equal(d.n05 / 100, e.n05_per_cm3)
    assert.equal(d.n1 / 100, e.n1_per_cm3)
    assert.equal(d.n25 / 100, e.n25_per_cm3)
    assert.equal(d.n5 / 100, e.n5_per_cm3)
    assert.equal(d.n10 / 100, e.n10_per_cm3)
    assert.equal(d.version, 0x97)
    assert.equal(d.errorCode, 0)
    assert.equal(d.warming, false)
  })
})

test('the first captured frame in detail (Plantower PMS5003 manual v2.3: PM2.5 8, n0.3 210, checksum 0x02c5 = 709)', () => {
  const d = decodePms5003(hex(fx.frames[0]))
  assert.ok(d.ok)
  assert.equal(d.pm25, 8)
  assert.equal(d.n03, 210)
})

test('negative cases are values with the right code, never throws', () => {
  for (const n of fx.negative) {
    const d = decodePms5003(hex(n.hex))
    assert.equal(d.ok, false, n.source)
    if (!d.ok) assert.equal(d.code, n.code, n.source)
  }
  const d = decodePms5003(hex(fx.negative[2].hex))
  assert.ok(!d.ok && d.detail === 'checksum 0 != 709')
  assert.deepEqual(decodePms5003(new Uint8Array(0)), { ok: false, code: 'E_LENGTH', detail: 'frame of 0 bytes, length field ?' })
})

test('an all-zero payload decodes as warming up', () => {
  const d = decodePms5003(hex(fx.warming.hex))
  assert.ok(d.ok)
  assert.equal(d.warming, true)
})

test('consistency: PM10 with no particle counted is rejected (PyPMS rule)', () => {
  const f = new PmsFrame()
  f.pm10 = 5
  assert.equal(pmsConsistent(f), false)
  f.n03 = 1
  assert.equal(pmsConsistent(f), true)
})

test("command bytes equal the manual's (Plantower PMS5003 manual v2.3, command table)", () => {
  const h = (b: Uint8Array): string => Buffer.from(b).toString('hex')
  assert.equal(h(PMS_CMD_PASSIVE_READ), fx.commands.passiveRead)
  assert.equal(h(PMS_CMD_MODE_PASSIVE), fx.commands.modePassive)
  assert.equal(h(PMS_CMD_MODE_ACTIVE), fx.commands.modeActive)
  assert.equal(h(PMS_CMD_SLEEP), fx.commands.sleep)
  assert.equal(h(PMS_CMD_WAKE), fx.commands.wake)
})
