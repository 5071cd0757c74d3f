/** Window statistics: the trimmed mean and its edge cases (1, 2, 3 samples, all equal, NaN), min, max, median per field. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { medianSorted, readingsInto, sortPrefix, trimmedMean, trimmedMeanSorted, WindowStats } from '../../device/window-stats.js'
import { READING_KEYS, Readings } from '../../sensors/readings.js'

const near = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} is not ${b}`)
const PM25 = READING_KEYS.indexOf('pm25')
const PM10 = READING_KEYS.indexOf('pm10')

test('trimmed mean: min and max dropped from 3 samples up; 1 and 2 samples are their plain mean; none is NaN', () => {
  assert.ok(Number.isNaN(trimmedMean([])))
  assert.equal(trimmedMean([7]), 7)
  assert.equal(trimmedMean([4, 9]), 6.5)
  assert.equal(trimmedMean([1, 100, 5]), 5) // 3 samples: only the middle one is left
  near(trimmedMean([3, 1, 4, 1, 5]), (3 + 1 + 4) / 3) // one 1 and the 5 dropped, the other 1 stays
  assert.equal(trimmedMean([2, 2, 2, 2]), 2)
  assert.equal(trimmedMean([12.3, 12.3, 12.3, 500, 12.3]), 12.3) // a single spike costs nothing
})

test('trimmed mean: a NaN sample (a field not measured) is not a sample', () => {
  assert.equal(trimmedMean([Number.NaN, 6]), 6)
  assert.equal(trimmedMean([1, Number.NaN, 3]), 2) // two real samples: their mean
  assert.equal(trimmedMean([1, 2, Number.NaN, 3]), 2)
  assert.ok(Number.isNaN(trimmedMean([Number.NaN, Number.NaN])))
})

test('sortPrefix sorts only the prefix; median of odd and even counts', () => {
  const xs = Float64Array.of(5, 3, 9, 1, -1, 100)
  sortPrefix(xs, 4)
  assert.deepEqual([...xs], [1, 3, 5, 9, -1, 100])
  assert.equal(medianSorted(xs, 4), 4)
  assert.equal(medianSorted(xs, 3), 3)
  assert.equal(medianSorted(xs, 1), 1)
  assert.ok(Number.isNaN(medianSorted(xs, 0)))
  assert.equal(trimmedMeanSorted(xs, 4), 4)
})

test('WindowStats: per field counts, trimmed mean, min, max, median; reset; capacity bounds the samples', () => {
  const w = new WindowStats(4)
  const r = new Readings()
  const add = (pm25: number, pm10: number): void => {
    r.clear()
    r.pm25 = pm25
    r.pm10 = pm10
    w.add(r)
  }
  add(8, 10)
  add(30, Number.NaN) // pm10 not in this frame
  add(9, 12)
  add(10, 11)
  add(1000, 1000) // beyond the capacity: ignored
  w.close()
  assert.equal(w.samples, 4)
  assert.deepEqual([w.count(PM25), w.count(PM10)], [4, 3])
  assert.equal(w.mean(PM25), 9.5) // 8 and 30 dropped
  assert.equal(w.mean(PM10), 11)
  assert.deepEqual([w.min(PM25), w.max(PM25), w.median(PM25)], [8, 30, 9.5])
  assert.equal(w.count(READING_KEYS.indexOf('co2')), 0)
  assert.ok(Number.isNaN(w.mean(READING_KEYS.indexOf('co2'))))
  w.reset()
  assert.equal(w.samples, 0)
  add(5, 5)
  w.close()
  assert.deepEqual([w.mean(PM25), w.min(PM25), w.max(PM25), w.median(PM25)], [5, 5, 5, 5])
})

test('readingsInto copies every field of Readings in READING_KEYS order (a field added to Readings must be added there)', () => {
  const r = new Readings() as unknown as Record<string, number>
  const keys = Object.keys(r)
  assert.deepEqual([...keys].sort(), [...READING_KEYS].sort(), 'READING_KEYS lists every field of Readings')
  READING_KEYS.forEach((k, i) => {
    r[k] = i + 1
  })
  const row = new Float64Array(READING_KEYS.length)
  readingsInto(r as unknown as Readings, row)
  assert.deepEqual(
    [...row],
    READING_KEYS.map((_, i) => i + 1),
  )
})
