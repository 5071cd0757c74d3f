/** The duty cycle of a PM sensor: wake, warm up, measure a window of one-second samples, sleep; one window reading per interval (or back-to-back windows). */

import { canSleep, type SensorDriver } from '../sensors/driver.js'
import type { WindowStat } from '../sensors/duty-config.js'
import { READING_KEYS, type ReadingKey, Readings } from '../sensors/readings.js'
import type { Clock } from '../src/clock.js'
import { LaserHours } from './laser-hours.js'
import { WindowStats } from './window-stats.js'

/*
 * Timeline of one cycle, every intervalMs (the airRohr and ESPHome practice):
 *
 *   wake ──warmupMs── window opens ──windowMs (a sample every sampleMs)── window closes: sleep, one reading ── next wake
 *
 * The driver discards frames during its own warm-up (set to the same warmupMs); the cycle also ignores whatever a
 * sample returns before the window opens, so warm-up samples never count. The reading is the window's statistics
 * (window-stats.ts) and carries the window: `{sensor, model, values, window: {start, end, n, min?, max?, median?}}`.
 * `values` holds the trimmed means, so a receiver that knows only `values` (gateway/incoming.ts) stores them as before;
 * start and end are ms since the epoch.
 *
 * A PM sensor that does not sleep (`duty: false`, or an interval too short for it) measures back-to-back windows of
 * one interval each after its first warm-up (`sleeps: false`): every reading is still a window's statistics.
 */

/** What the config says about one duty-cycled sensor (sensors/duty-config.ts), in milliseconds. */
export interface DutyPlan {
  readonly warmupMs: number
  readonly windowMs: number
  /** Time between samples in the window (default 1000). */
  readonly sampleMs?: number
  /** Statistics carried besides the trimmed mean (default none). */
  readonly stats?: readonly WindowStat[]
  /** False: never sleep, windows back to back (windowMs = the interval). Default true. */
  readonly sleeps?: boolean
}

type Values = Partial<Record<ReadingKey, number>>

/** The `window` member of a reading. */
export interface WindowClaims {
  start: number
  end: number
  n: number
  min?: Values
  max?: Values
  median?: Values
}

/** A window reading as sealed under the `r` claim. */
export interface WindowReading {
  readonly sensor: string
  readonly model: string
  values: Values
  window: WindowClaims
}

type Phase = 'warming' | 'measuring' | 'sleeping'

const round2 = (x: number): number => Math.round(x * 100) / 100

export class DutyCycle {
  readonly driver: SensorDriver
  readonly claims: WindowReading
  /** Whether the chip is put to sleep between windows (plan.sleeps and the driver can). */
  readonly sleeps: boolean
  phase: Phase = 'sleeping'
  private readonly intervalMs: number
  private readonly warmupMs: number
  private readonly windowMs: number
  private readonly sampleMs: number
  private readonly statsWanted: readonly WindowStat[]
  private readonly window: WindowStats
  private readonly out = new Readings()
  private readonly clock: Clock
  private readonly laser: LaserHours | undefined
  private cycleStartMs = 0
  private windowStartMs = 0

  constructor(driver: SensorDriver, intervalMs: number, plan: DutyPlan, clock: Clock, laser: LaserHours | undefined) {
    this.driver = driver
    this.sleeps = plan.sleeps !== false && canSleep(driver)
    this.intervalMs = intervalMs
    this.warmupMs = plan.warmupMs
    this.windowMs = plan.windowMs
    this.sampleMs = plan.sampleMs ?? 1000
    this.statsWanted = plan.stats ?? []
    this.window = new WindowStats(Math.ceil(this.windowMs / this.sampleMs) + 2)
    this.clock = clock
    this.laser = laser !== undefined && LaserHours.counts(driver.model) ? laser : undefined
    this.claims = { sensor: driver.id, model: driver.model, values: {}, window: { start: 0, end: 0, n: 0 } }
  }

  /** The loop started the driver (it woke and began its warm-up): the first cycle begins now. Returns when to step. */
  begin(nowMs: number): number {
    this.phase = 'warming'
    this.cycleStartMs = nowMs
    this.laser?.on(this.driver.id, this.driver.model, nowMs)
    return nowMs + this.warmupMs
  }

  /** The loop stopped the driver (asleep, or stopped): the laser is off. */
  end(nowMs: number): void {
    this.phase = 'sleeping'
    this.laser?.off(this.driver.id, nowMs)
  }

  /**
   * Does what is due at `nowMs` and returns when to step next. Returns true in `closed` when a window has just
   * closed with at least one sample: `claims` then holds its reading.
   */
  step(nowMs: number, result: { closed: boolean }): number {
    result.closed = false
    if (this.phase === 'sleeping') {
      if (nowMs < this.cycleStartMs + this.intervalMs) return this.cycleStartMs + this.intervalMs
      // Keep the cadence (one reading per interval); after a long stall start afresh from now.
      const due = this.cycleStartMs + this.intervalMs
      this.cycleStartMs = nowMs - due < this.intervalMs ? due : nowMs
      if (canSleep(this.driver)) this.driver.wake()
      this.laser?.on(this.driver.id, this.driver.model, nowMs)
      this.phase = 'warming'
      return this.cycleStartMs + this.warmupMs
    }
    if (this.phase === 'warming') {
      if (nowMs < this.cycleStartMs + this.warmupMs) return this.cycleStartMs + this.warmupMs
      this.phase = 'measuring'
      this.windowStartMs = nowMs
      this.window.reset()
      // The driver leaves its warm-up here (and a passive chip sends its first query); what it returns is not a sample.
      this.out.clear()
      this.driver.sample(this.out)
      return nowMs + this.sampleMs
    }
    this.out.clear()
    if (this.driver.sample(this.out) === 'fresh') this.window.add(this.out)
    const endMs = this.windowStartMs + this.windowMs
    if (nowMs < endMs) return Math.min(nowMs + this.sampleMs, endMs)
    if (this.window.samples > 0) {
      this.fill(nowMs)
      result.closed = true
    }
    if (!this.sleeps) {
      // Continuous: the next window opens now (this sample belongs to the one just closed).
      this.windowStartMs = nowMs
      this.window.reset()
      return nowMs + this.sampleMs
    }
    if (canSleep(this.driver)) this.driver.sleep()
    this.laser?.off(this.driver.id, nowMs)
    this.phase = 'sleeping'
    return this.cycleStartMs + this.intervalMs
  }

  /** Writes the window's statistics into the claims object (rebuilt only when the set of fields changes). */
  private fill(nowMs: number): void {
    const w = this.window
    w.close()
    const c = this.claims
    let same = true
    for (let k = 0; k < READING_KEYS.length; k++)
      if (w.count(k) > 0 !== (c.values[READING_KEYS[k] as ReadingKey] !== undefined)) same = false
    const win = c.window
    if (!same) {
      c.values = {}
      if (this.statsWanted.includes('min')) win.min = {}
      if (this.statsWanted.includes('max')) win.max = {}
      if (this.statsWanted.includes('median')) win.median = {}
    }
    for (let k = 0; k < READING_KEYS.length; k++) {
      if (w.count(k) === 0) continue
      const key = READING_KEYS[k] as ReadingKey
      c.values[key] = round2(w.mean(k))
      if (win.min !== undefined) win.min[key] = w.min(k)
      if (win.max !== undefined) win.max[key] = w.max(k)
      if (win.median !== undefined) win.median[key] = round2(w.median(k))
    }
    win.n = w.samples
    win.end = this.clock.now()
    win.start = win.end - (nowMs - this.windowStartMs)
  }
}

/**
 * A held reading (clock not synchronised when its window closed) is sealed later with its true time `atMs`; its
 * window, measured on the wrong wall clock, moves with it (the window ends when the reading is taken).
 */
export function restampWindow(claims: object, atMs: number): void {
  const win = (claims as { window?: { start?: unknown; end?: unknown } }).window
  if (win === undefined || typeof win.start !== 'number' || typeof win.end !== 'number') return
  win.start = atMs - (win.end - win.start)
  win.end = atMs
}
