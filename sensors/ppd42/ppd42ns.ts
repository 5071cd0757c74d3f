/** The Shinyei PPD42NS driver: LOW-pulse occupancy on a Gpio over a sampling window, converted by the published curve. */
import type { SampleResult, SensorDriver, SensorStatus } from '../driver.js'
import type { EdgeListener, Gpio, TimerClock } from '../hal.js'
import { type HealthOptions, newStatus, SensorHealth } from '../health.js'
import type { ReadingFields } from '../readings.js'
import { LowPulseAccumulator, ppdConcentration } from './occupancy.js'

export interface Ppd42nsOptions extends HealthOptions {
  id: string
  /** Sampling window (default 30 s, the Seeed demo's). A reading is produced once per window. */
  windowMs?: number
  /** Warm-up after start (default 60 s; the Shinyei datasheet was not retrieved, so this is the community figure). */
  warmupMs?: number
}

/** Defaults: the Seeed demo's 30 s window; 60 s warm-up (the Shinyei datasheet was not retrieved: the community figure). */
export const PPD42NS_DEFAULTS = { windowMs: 30_000, warmupMs: 60_000 }

/**
 * The window is timed with the TimerClock and the pulses with the Gpio's edge timestamps (both monotonic; only
 * differences of each are used, so their origins may differ: onoff stamps with performance.now, gpiomon with the
 * kernel's CLOCK_MONOTONIC). A window spent entirely LOW with no edge is E_RANGE (a wiring fault: the output idles
 * HIGH); a window entirely HIGH is a valid 0% (clean air), which an unplugged sensor with a pull-up also gives.
 */
export class Ppd42ns implements SensorDriver {
  readonly id: string
  readonly model = 'ppd42ns'
  readonly status: SensorStatus
  private readonly gpio: Gpio
  private readonly clock: TimerClock
  private readonly health: SensorHealth
  private readonly acc = new LowPulseAccumulator()
  private readonly windowMs: number
  private readonly warmupMs: number
  private readonly onEdge: EdgeListener
  private windowStartMs = 0
  private warmUntilMs = 0

  constructor(gpio: Gpio, clock: TimerClock, opts: Ppd42nsOptions) {
    this.id = opts.id
    this.gpio = gpio
    this.clock = clock
    this.status = newStatus(opts.id, 'ppd42ns')
    this.health = new SensorHealth(this.status, clock, opts)
    this.windowMs = opts.windowMs ?? PPD42NS_DEFAULTS.windowMs
    this.warmupMs = opts.warmupMs ?? PPD42NS_DEFAULTS.warmupMs
    this.onEdge = (level, timeUs) => this.acc.edge(level, timeUs)
  }

  start(): void {
    if (this.status.state !== 'stopped') return
    this.health.reset()
    this.begin()
  }

  private begin(): void {
    const now = this.clock.nowMs()
    let level: 0 | 1 = 1
    try {
      level = this.gpio.read()
      this.gpio.watch(this.onEdge)
    } catch {
      this.status.state = 'running'
      this.health.fault('E_IO')
      return
    }
    this.acc.reset(level)
    this.warmUntilMs = now + this.warmupMs
    this.windowStartMs = now
    this.status.state = this.warmupMs > 0 ? 'warming' : 'running'
  }

  stop(): void {
    if (this.status.state === 'stopped') return
    this.gpio.unwatch()
    this.status.state = 'stopped'
  }

  sample(out: ReadingFields): SampleResult {
    const s = this.status
    if (s.state === 'stopped') return 'stopped'
    if (s.state === 'backoff') {
      if (!this.health.retryDue()) return 'backoff'
      this.gpio.unwatch()
      this.begin()
      return s.state === 'backoff' ? 'backoff' : 'warming'
    }
    const now = this.clock.nowMs()
    if (s.state === 'warming') {
      if (now < this.warmUntilMs) return 'warming'
      s.state = 'running'
      this.acc.take()
      this.windowStartMs = now
      return 'none'
    }
    const elapsed = now - this.windowStartMs
    if (elapsed < this.windowMs) return 'none'
    const acc = this.acc
    let level: 0 | 1
    try {
      level = this.gpio.read() // also notices a dead edge source (LinuxGpio read error, gpiomon exited)
    } catch {
      acc.take()
      this.windowStartMs = now
      this.health.fault('E_IO')
      return this.status.state === 'backoff' ? 'backoff' : 'fault'
    }
    const stuckLow = acc.edges === 0 && level === 0
    const ratio = Math.min(100, acc.lowUs / (elapsed * 10)) // µs / (ms × 10) = percent (Seeed demo)
    acc.take()
    this.windowStartMs = now
    if (stuckLow) {
      this.health.fault('E_RANGE')
      return this.status.state === 'backoff' ? 'backoff' : 'fault'
    }
    this.health.good()
    out.lowRatio = ratio
    out.particles = ppdConcentration(ratio)
    return 'fresh'
  }
}
