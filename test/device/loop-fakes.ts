/** Test fakes for the device loop: manual monotonic time, a scripted driver using the real SensorHealth, an in-memory sequence. */

import type { SequenceStore } from '../../messaging/sequence.js'
import type { SampleResult, SensorDriver, SensorFault } from '../../sensors/driver.js'
import type { TimerClock } from '../../sensors/hal.js'
import { newStatus, SensorHealth } from '../../sensors/health.js'
import type { ReadingFields } from '../../sensors/readings.js'

/** Manual monotonic time: timers fire only when the test advances the clock. */
export class FakeTimers implements TimerClock {
  t = 0
  private timers = new Map<number, { at: number; fn: () => void }>()
  private id = 0
  nowMs(): number {
    return this.t
  }
  setTimer(fn: () => void, ms: number): number {
    this.id++
    this.timers.set(this.id, { at: this.t + ms, fn })
    return this.id
  }
  clearTimer(h: unknown): void {
    this.timers.delete(h as number)
  }
  pending(): number {
    return this.timers.size
  }
  advance(ms: number): void {
    const end = this.t + ms
    for (;;) {
      let best: [number, { at: number; fn: () => void }] | undefined
      for (const e of this.timers) if (e[1].at <= end && (best === undefined || e[1].at < best[1].at)) best = e
      if (best === undefined) break
      this.timers.delete(best[0])
      this.t = Math.max(this.t, best[1].at)
      best[1].fn()
    }
    this.t = end
  }
}

/** A driver whose samples follow a script (one entry per sample call); it uses the real SensorHealth. */
export class ScriptedDriver implements SensorDriver {
  readonly id: string
  readonly model: string
  readonly status
  readonly health: SensorHealth
  script: Array<number | SensorFault | 'none'>
  started = 0
  stopped = 0
  calls = 0
  constructor(id: string, model: string, timers: TimerClock, script: Array<number | SensorFault | 'none'>) {
    this.id = id
    this.model = model
    this.status = newStatus(id, model)
    this.health = new SensorHealth(this.status, timers, { degradedAfter: 2, failedAfter: 4, backoffMs: 1000, maxBackoffMs: 4000 })
    this.script = script
  }
  start(): void {
    this.started++
    this.status.state = 'running'
  }
  stop(): void {
    this.stopped++
    this.status.state = 'stopped'
  }
  sample(out: ReadingFields): SampleResult {
    if (this.status.state === 'backoff') {
      if (!this.health.retryDue()) return 'backoff'
      this.status.state = 'running'
    }
    const step = this.script[Math.min(this.calls++, this.script.length - 1)]
    if (step === undefined || step === 'none') return 'none'
    if (typeof step === 'number') {
      out.pm25 = step
      out.pm10 = step * 2
      this.health.good()
      return 'fresh'
    }
    this.health.fault(step)
    return 'fault'
  }
}

export function memorySequence(start = 0): SequenceStore {
  let n = start
  return { next: () => n++, peek: () => n, close: () => {} }
}
