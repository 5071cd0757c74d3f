/** The device loop on fake time with scripted drivers: schedule, sealing fan-out, fault isolation, health reports. */

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DeviceLoop, type LoopOutbox, type LoopRecipient, type ReadingSealer } from '../../device/loop.js'
import { fixedClock } from '../../src/clock.js'
import { createLogger } from '../../src/log.js'
import { FakeTimers, memorySequence, ScriptedDriver } from './loop-fakes.js'

const jsonSealer = (to: string): ReadingSealer => ({
  seal: (reading, { now, seq }) => JSON.stringify({ aud: to, iat: now, seq, ...reading }),
})

function setup(
  drivers: ScriptedDriver[],
  timers: FakeTimers,
  recipients: LoopRecipient[] = [{ name: 'gw._device.example.com', sealer: jsonSealer('gw._device.example.com') }],
) {
  const sent: Array<{ topic: string; msg: Record<string, any> }> = []
  const outbox: LoopOutbox = { append: (topic, payload) => sent.push({ topic, msg: JSON.parse(Buffer.from(payload).toString('utf8')) }) }
  const logs: string[] = []
  const loop = new DeviceLoop({
    sensors: drivers.map((driver) => ({ driver, intervalMs: 1000 })),
    recipients,
    outbox,
    sequence: memorySequence(),
    clock: fixedClock(1_790_000_000_000),
    timers,
    log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    statusIntervalMs: 0,
  })
  return { loop, sent, logs }
}

test('samples each sensor on its interval and seals fresh readings with increasing seq', () => {
  const timers = new FakeTimers()
  const d = new ScriptedDriver('pm', 'pms5003', timers, [8, 'none', 9, 10])
  const { loop, sent } = setup([d], timers)
  loop.start()
  assert.equal(d.started, 1)
  timers.advance(3500)
  assert.equal(d.calls, 4)
  assert.deepEqual(
    sent.map((s) => s.msg.values.pm25),
    [8, 9, 10],
  )
  assert.deepEqual(
    sent.map((s) => s.msg.seq),
    [0, 1, 2],
  )
  assert.equal(sent[0]!.topic, 'gw._device.example.com')
  assert.deepEqual(sent[0]!.msg.values, { pm25: 8, pm10: 16 })
  assert.equal(sent[0]!.msg.sensor, 'pm')
  assert.equal(sent[0]!.msg.model, 'pms5003')
  loop.stop()
  assert.equal(d.stopped, 1)
  assert.equal(timers.pending(), 0, 'no timer left after stop')
})

test('one reading goes to every recipient under one sequence number', () => {
  const timers = new FakeTimers()
  const d = new ScriptedDriver('pm', 'sds011', timers, [5])
  const recipients = ['a._device.example.com', 'b._device.example.org'].map((name) => ({ name, sealer: jsonSealer(name) }))
  const { loop, sent } = setup([d], timers, recipients)
  loop.start()
  timers.advance(1500)
  loop.stop()
  assert.deepEqual(
    sent.map((s) => [s.topic, s.msg.aud, s.msg.seq]),
    [
      ['a._device.example.com', 'a._device.example.com', 0],
      ['b._device.example.org', 'b._device.example.org', 0],
      ['a._device.example.com', 'a._device.example.com', 1],
      ['b._device.example.org', 'b._device.example.org', 1],
    ],
  )
})

test('a faulty sensor goes degraded then failed, backs off, recovers; the healthy one is unaffected', () => {
  const timers = new FakeTimers()
  const good = new ScriptedDriver('co2', 'mhz19b', timers, [400])
  const bad = new ScriptedDriver('pm', 'pms5003', timers, ['E_CHECKSUM', 'E_CHECKSUM', 'E_CHECKSUM', 'E_TIMEOUT', 'E_TIMEOUT', 12])
  const { loop, sent, logs } = setup([good, bad], timers)
  loop.start()
  timers.advance(20_000)
  loop.stop()
  const readings = sent.filter((s) => s.msg.values !== undefined)
  assert.equal(readings.filter((s) => s.msg.sensor === 'co2').length, 21, 'the healthy sensor read every second')
  const statuses = sent.filter((s) => s.msg.status !== undefined).map((s) => s.msg.status)
  assert.deepEqual(
    statuses.map((s) => [s.sensor, s.health, s.fault]),
    [
      ['pm', 'degraded', 'E_CHECKSUM'],
      ['pm', 'failed', 'E_TIMEOUT'],
      ['pm', 'ok', 'E_TIMEOUT'],
    ],
  )
  assert.equal(statuses[1].retryInMs, 1000)
  // Backoff: after failing at t=3 s the next tries are at the retry time, the retry faults again (2 s backoff), then recovers.
  assert.ok(readings.some((s) => s.msg.sensor === 'pm' && s.msg.values.pm25 === 12))
  // Each health change logged once, not per tick.
  assert.equal(logs.filter((l) => l.includes('sensor pm is failed')).length, 1)
  assert.equal(logs.filter((l) => l.includes('sensor pm is degraded')).length, 1)
  // Every message, readings and status alike, has its own sequence number, in order.
  assert.deepEqual(
    sent.map((s) => s.msg.seq),
    sent.map((_, i) => i),
  )
})

test('a sealer that throws for one recipient does not stop the other or the loop; logged once', () => {
  const timers = new FakeTimers()
  const d = new ScriptedDriver('pm', 'pms5003', timers, [1, 2, 3])
  const broken: ReadingSealer = {
    seal: () => {
      throw Object.assign(new Error('no key for recipient'), { code: 'ERR_TLSA_NONE' })
    },
  }
  const { loop, sent, logs } = setup([d], timers, [
    { name: 'broken._device.example.com', sealer: broken },
    { name: 'ok._device.example.com', sealer: jsonSealer('ok._device.example.com') },
  ])
  loop.start()
  timers.advance(2500)
  loop.stop()
  assert.deepEqual(
    sent.map((s) => s.msg.values.pm25),
    [1, 2, 3],
  )
  assert.equal(loop.stats.sealErrors, 3)
  assert.equal(logs.filter((l) => l.includes('cannot seal')).length, 1)
  assert.ok(logs[0]!.includes('ERR_TLSA_NONE'))
})

test('replace swaps sensors and recipients while running; the sequence carries on', () => {
  const timers = new FakeTimers()
  const a = new ScriptedDriver('a', 'pms5003', timers, [1])
  const { loop, sent } = setup([a], timers)
  loop.start()
  timers.advance(1500)
  const b = new ScriptedDriver('b', 'sds011', timers, [7])
  loop.replace([{ driver: b, intervalMs: 1000 }], [{ name: 'new._device.example.com', sealer: jsonSealer('new._device.example.com') }])
  assert.equal(a.stopped, 1)
  assert.equal(b.started, 1)
  timers.advance(1000)
  loop.stop()
  assert.deepEqual(
    sent.map((s) => [s.topic, s.msg.sensor, s.msg.seq]),
    [
      ['gw._device.example.com', 'a', 0],
      ['gw._device.example.com', 'a', 1],
      ['new._device.example.com', 'b', 2],
      ['new._device.example.com', 'b', 3],
    ],
  )
})

test('periodic status messages summarise every sensor', () => {
  const timers = new FakeTimers()
  const d = new ScriptedDriver('pm', 'pms5003', timers, ['none'])
  const sent: any[] = []
  const loop = new DeviceLoop({
    sensors: [{ driver: d, intervalMs: 1000 }],
    recipients: [{ name: 'gw.example', sealer: jsonSealer('gw.example') }],
    outbox: { append: (_t, p) => sent.push(JSON.parse(Buffer.from(p).toString('utf8'))) },
    sequence: memorySequence(),
    clock: fixedClock(0),
    timers,
    log: createLogger({ level: 'silent' }),
    statusIntervalMs: 5000,
    version: '9.8.7',
    outboxDepth: () => 42 + sent.length,
  })
  loop.start()
  timers.advance(10_000)
  loop.stop()
  assert.equal(sent.length, 2)
  assert.equal(sent[0].status.sensors[0].sensor, 'pm')
  assert.equal(sent[0].status.sensors[0].health, 'ok')
  // Signs of life: the software version, uptime and the outbox depth at the time of each summary.
  assert.equal(sent[0].status.version, '9.8.7')
  assert.equal(sent[0].status.outbox, 42)
  assert.equal(sent[1].status.outbox, 43)
  assert.equal(sent[0].status.uptimeS, 5)
  assert.equal(sent[1].status.uptimeS, 10)
})

test('an outbox that rejects (disk full) is logged once; the loop keeps sampling', async () => {
  const timers = new FakeTimers()
  const d = new ScriptedDriver('pm', 'pms5003', timers, [1, 2, 3])
  const logs: string[] = []
  let calls = 0
  const loop = new DeviceLoop({
    sensors: [{ driver: d, intervalMs: 1000 }],
    recipients: [{ name: 'gw.example', sealer: jsonSealer('gw.example') }],
    outbox: {
      append: () => {
        calls++
        return Promise.reject(Object.assign(new Error('no space'), { code: 'ENOSPC' }))
      },
    },
    sequence: memorySequence(),
    clock: fixedClock(0),
    timers,
    log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    statusIntervalMs: 0,
  })
  loop.start()
  timers.advance(2500)
  assert.equal(loop.pendingAppends, 3)
  await new Promise((r) => setImmediate(r))
  loop.stop()
  assert.equal(calls, 3)
  assert.equal(loop.pendingAppends, 0)
  assert.equal(loop.stats.appendErrors, 3)
  assert.equal(logs.filter((l) => l.includes('ENOSPC')).length, 1)
})

test('while the clock is not synchronised readings are held (logged once), then sealed with their true time', () => {
  const timers = new FakeTimers()
  const d = new ScriptedDriver('pm', 'pms5003', timers, [1, 2, 3, 4, 5])
  const sent: Array<Record<string, unknown>> = []
  const logs: string[] = []
  let synced = false
  const loop = new DeviceLoop({
    sensors: [{ driver: d, intervalMs: 1000 }],
    recipients: [{ name: 'gw.example', sealer: jsonSealer('gw.example') }],
    outbox: { append: (_t, p) => sent.push(JSON.parse(Buffer.from(p).toString('utf8'))) },
    sequence: memorySequence(),
    clock: { now: () => 1_790_000_000_000, synced: () => synced },
    timers,
    log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    statusIntervalMs: 0,
  })
  loop.start()
  timers.advance(2500)
  assert.equal(sent.length, 0)
  assert.equal(loop.stats.unsynced, 3)
  assert.equal(loop.stats.held, 3)
  assert.equal(logs.filter((l) => l.includes('clock is not synchronised')).length, 1)
  synced = true
  timers.advance(2000)
  loop.stop()
  // Readings at t = 0, 1, 2 s (held) and 3, 4 s: in order, each stamped with the wall time it was taken (the wall
  // clock reads 1_790_000_000_000 at t = 3 s, when the first is sealed; the held ones are 3, 2 and 1 s older).
  assert.deepEqual(
    sent.map((m) => [m.seq, (m.values as Record<string, number>).pm25, m.iat]),
    [
      [0, 1, 1_789_999_997_000],
      [1, 2, 1_789_999_998_000],
      [2, 3, 1_789_999_999_000],
      [3, 4, 1_790_000_000_000],
      [4, 5, 1_790_000_000_000],
    ],
  )
  assert.equal(loop.stats.held, 0)
  assert.ok(logs.some((l) => l.includes('sealing the readings kept meanwhile') && l.includes('"count":3')))
})
