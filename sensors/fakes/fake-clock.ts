/** A fake TimerClock: time moves only when the test calls advance(), running due timers in order. */
import type { TimerClock, TimerHandle } from '../hal.js'

interface Timer {
  at: number
  seq: number
  ms: number
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
    const t: Timer = { at: this.now + Math.max(0, ms), seq: this.seq++, ms: Math.max(0, ms), fn }
    this.timers.push(t)
    return t
  }

  clearTimer(handle: TimerHandle): void {
    const i = this.timers.indexOf(handle as Timer)
    if (i < 0) return
    this.timers[i] = this.timers[this.timers.length - 1] as Timer
    this.timers.pop()
  }

  rearm(handle: TimerHandle): void {
    const t = handle as Timer
    t.at = this.now + t.ms
    t.seq = this.seq++
    if (!this.timers.includes(t)) this.timers.push(t)
  }

  /** Pending timers (for tests asserting nothing leaks). */
  get pending(): number {
    return this.timers.length
  }

  /** Move time forward by `ms`, firing every timer that falls due (including ones set by fired timers). */
  advance(ms: number): void {
    const end = this.now + ms
    for (;;) {
      // Indexed, not for-of: the benches run this millions of times and count what it allocates.
      let next: Timer | undefined
      let at = -1
      for (let i = 0; i < this.timers.length; i++) {
        const t = this.timers[i] as Timer
        if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) {
          next = t
          at = i
        }
      }
      if (next === undefined) break
      // Swap-remove (order is kept by `seq`, not by position): splice would allocate the removed element's array.
      this.timers[at] = this.timers[this.timers.length - 1] as Timer
      this.timers.pop()
      this.now = Math.max(this.now, next.at)
      next.fn()
    }
    this.now = end
  }
}
