/** Laser hours: counted from wake to sleep, written atomically at most every few minutes, read back, reset for a new model. */
import assert from 'node:assert/strict'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { LASER_SAVE_EVERY_MS, LaserHours, RATED_LASER_HOURS } from '../../device/laser-hours.js'
import { FakeClock } from '../../sensors/fakes/fake-clock.js'
import { createLogger } from '../../src/log.js'
import { makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-laser-')
after(() => tmp.cleanup())
const H = 3_600_000

function meter(name: string, clock: FakeClock) {
  const logs: string[] = []
  const path = join(tmp.dir, name)
  const m = new LaserHours({ path, timers: clock, log: createLogger({ level: 'debug', write: (l) => logs.push(l) }) })
  return { m, path, logs, read: () => JSON.parse(readFileSync(path, 'utf8')) }
}

test('on/off intervals add up; the running interval counts in hours() and the report', () => {
  const clock = new FakeClock(0)
  const { m } = meter('a.json', clock)
  m.on('pm', 'sds011', 0)
  m.off('pm', 40_000)
  m.off('pm', 50_000) // already off: nothing added
  m.on('pm', 'sds011', 90_000)
  m.on('pm', 'sds011', 95_000) // already on: the first time stands
  assert.equal(m.hours('pm', 100_000), 50_000 / H)
  assert.deepEqual(m.report(100_000), [{ sensor: 'pm', model: 'sds011', hours: 0.01, ratedHours: 8000, remainingHours: 7999.99 }])
  assert.equal(RATED_LASER_HOURS.pms5003, 26_280)
})

test('written at most every LASER_SAVE_EVERY_MS however often the chip sleeps, and at save(); read back after a restart', () => {
  const clock = new FakeClock(0)
  const { m, path, read } = meter('b.json', clock)
  for (let t = 0; t < LASER_SAVE_EVERY_MS; t += 60_000) {
    m.on('pm', 'pms5003', t)
    m.off('pm', t + 40_000)
    m.maybeSave(t + 40_000)
  }
  assert.throws(() => statSync(path), /ENOENT/) // 5 sleeps within the first 5 minutes: nothing written yet
  m.on('pm', 'pms5003', LASER_SAVE_EVERY_MS)
  m.off('pm', LASER_SAVE_EVERY_MS + 40_000)
  m.maybeSave(LASER_SAVE_EVERY_MS + 40_000)
  assert.equal(read().sensors.pm.hours, Math.round((6 * 40_000 * 1e6) / H) / 1e6)
  const first = readFileSync(path, 'utf8')
  m.on('pm', 'pms5003', LASER_SAVE_EVERY_MS + 60_000)
  m.off('pm', LASER_SAVE_EVERY_MS + 100_000)
  m.maybeSave(LASER_SAVE_EVERY_MS + 100_000)
  assert.equal(readFileSync(path, 'utf8'), first) // a minute after the last write: not yet
  m.save(LASER_SAVE_EVERY_MS + 100_000)
  const again = new LaserHours({ path, timers: clock, log: createLogger({ write: () => {} }) })
  again.on('pm', 'pms5003', 0)
  assert.ok(Math.abs(again.hours('pm', 0) * H - 7 * 40_000) < 10)
})

test('a sensor id now on another model starts from zero (logged); a corrupt file is logged and counting starts afresh', () => {
  const clock = new FakeClock(0)
  const path = join(tmp.dir, 'c.json')
  writeFileSync(
    path,
    JSON.stringify({ version: 1, sensors: { pm: { model: 'sds011', hours: 7000 }, old: { model: 'pms5003', hours: 3 } } }),
  )
  const { m, logs, read } = meter('c.json', clock)
  m.on('pm', 'pms5003', 0)
  assert.equal(m.hours('pm', 0), 0)
  assert.match(logs.join('\n'), /sensor pm is now a pms5003 \(was a sds011\)/)
  m.off('pm', H)
  m.save(H)
  assert.deepEqual(read().sensors, { pm: { model: 'pms5003', hours: 1 }, old: { model: 'pms5003', hours: 3 } })
  writeFileSync(path, '{not json')
  const { m: fresh, logs: logs2 } = meter('c.json', clock)
  fresh.on('pm', 'pms5003', 0)
  assert.equal(fresh.hours('pm', 0), 0)
  assert.match(logs2.join('\n'), /not valid JSON/)
})
