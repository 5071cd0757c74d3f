/** Sensor health: ok → degraded → failed after consecutive faults, then retries with exponential backoff. */
import type { SensorFault, SensorStatus } from './driver.js'
import type { TimerClock } from './hal.js'

export interface HealthOptions {
  /** Consecutive faults before `degraded` (default 3). */
  degradedAfter?: number
  /** Consecutive faults before `failed` (default 10: about 25 s of bad PMS frames at 2.3 s each). */
  failedAfter?: number
  /** First backoff after failing (default 5 s), doubled after each failed retry up to `maxBackoffMs` (default 5 min). */
  backoffMs?: number
  maxBackoffMs?: number
}

/** Drives a `SensorStatus` through its health states. One per driver; no allocation after construction. */
export class SensorHealth {
  readonly status: SensorStatus
  private readonly clock: TimerClock
  private readonly degradedAfter: number
  private readonly failedAfter: number
  private readonly baseBackoffMs: number
  private readonly maxBackoffMs: number
  private backoffMs: number

  constructor(status: SensorStatus, clock: TimerClock, opts: HealthOptions = {}) {
    this.status = status
    this.clock = clock
    this.degradedAfter = opts.degradedAfter ?? 3
    this.failedAfter = Math.max(opts.failedAfter ?? 10, this.degradedAfter)
    this.baseBackoffMs = opts.backoffMs ?? 5000
    this.maxBackoffMs = opts.maxBackoffMs ?? 300_000
    this.backoffMs = this.baseBackoffMs
  }

  /** A good reading: back to ok, backoff reset. */
  good(): void {
    const s = this.status
    s.frames++
    s.consecutiveFaults = 0
    s.health = 'ok'
    s.lastReadingMs = this.clock.nowMs()
    this.backoffMs = this.baseBackoffMs
  }

  /** A fault. Returns true when this fault (newly) puts the sensor into backoff. */
  fault(code: SensorFault): boolean {
    const s = this.status
    s.faults++
    s.lastFault = code
    s.consecutiveFaults++
    if (s.state === 'backoff') return false
    if (s.health === 'failed' || s.consecutiveFaults >= this.failedAfter) {
      // Failed, or a retry after failing faulted again: wait, and wait longer next time.
      s.health = 'failed'
      s.state = 'backoff'
      s.retryAtMs = this.clock.nowMs() + this.backoffMs
      this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs)
      return true
    }
    if (s.consecutiveFaults >= this.degradedAfter) s.health = 'degraded'
    return false
  }

  /** True when in backoff and the retry time has come (the driver then restarts the sensor). */
  retryDue(): boolean {
    return this.status.state === 'backoff' && this.clock.nowMs() >= this.status.retryAtMs
  }

  /** Forget everything (on start). */
  reset(): void {
    const s = this.status
    s.health = 'ok'
    s.lastFault = null
    s.consecutiveFaults = 0
    s.retryAtMs = Number.NaN
    this.backoffMs = this.baseBackoffMs
  }
}

/** A fresh status object for a driver. */
export function newStatus(id: string, model: string): SensorStatus {
  return {
    id,
    model,
    health: 'ok',
    state: 'stopped',
    lastFault: null,
    consecutiveFaults: 0,
    frames: 0,
    faults: 0,
    lastReadingMs: Number.NaN,
    retryAtMs: Number.NaN,
  }
}
