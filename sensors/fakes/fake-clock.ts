/** A fake TimerClock: time moves only when the test calls advance(), running due timers in order. */
import type { TimerClock, TimerHandle } from '../hal.js'

interface Timer {
  at: number
  seq: number
  fn: () => void
}

export class FakeClock implements TimerClock {
  private now: number
  private seq = 0
  private timers: Timer[] = []

  constructor(startMs = 0) {
    this.now = startMs
  }

  nowMs(): number {
    return this.now
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const t: Timer = { at: this.now + Math.max(0, ms), seq: this.seq++, fn }
    this.timers.push(t)
    return t
  }

  clearTimer(handle: TimerHandle): void {
    const i = this.timers.indexOf(handle as Timer)
    if (i >= 0) this.timers.splice(i, 1)
  }

  /** Pending timers (for tests asserting nothing leaks). */
  get pending(): number {
    return this.timers.length
  }

  /** Move time forward by `ms`, firing every timer that falls due (including ones set by fired timers). */
  advance(ms: number): void {
    const end = this.now + ms
    for (;;) {
      let next: Timer | undefined
      for (const t of this.timers)
        if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t
      if (next === undefined) break
      this.timers.splice(this.timers.indexOf(next), 1)
      this.now = Math.max(this.now, next.at)
      next.fn()
    }
    this.now = end
  }
}
