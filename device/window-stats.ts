/** Statistics of a measuring window: the trimmed mean (min and max dropped), count, min, max and median, per reading field. */
import { READING_KEYS, type ReadingFields } from '../sensors/readings.js'

/*
 * Why a trimmed mean: a low-cost optical sensor's one-second samples carry single outliers (an insect, a droplet, a
 * frame decoded across a glitch); dropping the lowest and the highest before averaging removes one of each at no cost
 * to a clean window (the sensor.community firmware does the same for its SDS011 and PMS windows). With fewer than
 * three samples nothing can be dropped and the plain mean is used. NaN means "not measured" and is never a sample.
 */

/** Sorts xs[0..n) ascending in place (insertion sort: n is a window's ten-odd samples; no allocation). */
export function sortPrefix(xs: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const v = xs[i] as number
    let j = i - 1
    while (j >= 0 && (xs[j] as number) > v) {
      xs[j + 1] = xs[j] as number
      j--
    }
    xs[j + 1] = v
  }
}

/** The trimmed mean of sorted xs[0..n): min and max dropped when n >= 3, the plain mean below; NaN when n is 0. */
export function trimmedMeanSorted(xs: Float64Array, n: number): number {
  if (n === 0) return Number.NaN
  const from = n >= 3 ? 1 : 0
  const to = n >= 3 ? n - 1 : n
  // Summed as offsets from the first kept sample, so a window of equal samples gives exactly that value (12.3, not
  // 12.300000000000002) and large counts lose no precision.
  const base = xs[from] as number
  let sum = 0
  for (let i = from; i < to; i++) sum += (xs[i] as number) - base
  return base + sum / (to - from)
}

/** The median of sorted xs[0..n) (the mean of the middle two when n is even); NaN when n is 0. */
export function medianSorted(xs: Float64Array, n: number): number {
  if (n === 0) return Number.NaN
  const mid = n >> 1
  return n % 2 === 1 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2
}

/** The trimmed mean of some samples, NaN ones skipped (for tools and tests; the window uses the in-place form). */
export function trimmedMean(samples: readonly number[]): number {
  const xs = Float64Array.from(samples.filter((v) => !Number.isNaN(v)))
  sortPrefix(xs, xs.length)
  return trimmedMeanSorted(xs, xs.length)
}

/**
 * Copies a reading's fields into `row`, in READING_KEYS order. Named loads, not `r[key]`: a keyed load of a double
 * field returns it boxed, one 16-byte HeapNumber per field per sample (3 KB a window, measured with bench:device's
 * pipeline); a named load stored into a Float64Array stays unboxed. test/device/window-stats.test.ts checks the
 * order against READING_KEYS, so a field added to Readings and not here fails there.
 */
export function readingsInto(r: ReadingFields, row: Float64Array): void {
  row[0] = r.pm1
  row[1] = r.pm25
  row[2] = r.pm10
  row[3] = r.pm1Cf1
  row[4] = r.pm25Cf1
  row[5] = r.pm10Cf1
  row[6] = r.n03
  row[7] = r.n05
  row[8] = r.n1
  row[9] = r.n25
  row[10] = r.n5
  row[11] = r.n10
  row[12] = r.co2
  row[13] = r.temperature
  row[14] = r.humidity
  row[15] = r.pressure
  row[16] = r.gasResistance
  row[17] = r.lowRatio
  row[18] = r.particles
}

/** One window's samples of every reading field, in buffers allocated once; `close()` sorts them for the statistics. */
export class WindowStats {
  /** Samples added since reset (fresh readings; faults are not samples). */
  samples = 0
  private readonly buf: Float64Array[]
  private readonly counts: Int32Array
  private readonly capacity: number
  private readonly row = new Float64Array(READING_KEYS.length)

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity)
    this.buf = READING_KEYS.map(() => new Float64Array(this.capacity))
    this.counts = new Int32Array(READING_KEYS.length)
  }

  reset(): void {
    this.samples = 0
    this.counts.fill(0)
  }

  /** Adds one sample (every field the driver measured); beyond the capacity samples are ignored. */
  add(r: ReadingFields): void {
    if (this.samples >= this.capacity) return
    this.samples++
    const row = this.row
    readingsInto(r, row)
    for (let k = 0; k < READING_KEYS.length; k++) {
      const v = row[k] as number
      if (Number.isNaN(v)) continue
      const c = this.counts[k] as number
      ;(this.buf[k] as Float64Array)[c] = v
      this.counts[k] = c + 1
    }
  }

  /** Sorts every field's samples: call once when the window closes, before reading the statistics. */
  close(): void {
    for (let k = 0; k < READING_KEYS.length; k++) sortPrefix(this.buf[k] as Float64Array, this.counts[k] as number)
  }

  /** Samples of field k (an index into READING_KEYS). */
  count(k: number): number {
    return this.counts[k] as number
  }

  mean(k: number): number {
    return trimmedMeanSorted(this.buf[k] as Float64Array, this.counts[k] as number)
  }

  min(k: number): number {
    return this.counts[k] === 0 ? Number.NaN : ((this.buf[k] as Float64Array)[0] as number)
  }

  max(k: number): number {
    const c = this.counts[k] as number
    return c === 0 ? Number.NaN : ((this.buf[k] as Float64Array)[c - 1] as number)
  }

  median(k: number): number {
    return medianSorted(this.buf[k] as Float64Array, this.counts[k] as number)
  }
}
