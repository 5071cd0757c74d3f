/** A PPD42NS emulator: drives a FakeGpio with LOW pulses on a TimerClock so the LOW-time ratio is the one asked for. */
import type { TimerClock, TimerHandle } from '../hal.js'
import type { FakeGpio } from './fake-gpio.js'

export interface Ppd42EmulatorOptions {
  /** LOW-time percentage to produce (a number, or a function read before each pulse for changing air). */
  ratioPct: number | (() => number)
  /** Length of each LOW pulse (default 30 ms; real pulses are 10-90 ms). */
  pulseMs?: number
}

/**
 * Each cycle is one LOW pulse of `pulseMs` followed by HIGH for the rest of a period chosen so that
 * pulse / period = ratio. Edge timestamps are the clock's time in µs, as LinuxGpio stamps them.
 */
export class Ppd42Emulator {
  private readonly gpio: FakeGpio
  private readonly clock: TimerClock
  private readonly ratio: () => number
  private readonly pulseMs: number
  private timer: TimerHandle | null = null
  private closed = false

  constructor(gpio: FakeGpio, clock: TimerClock, opts: Ppd42EmulatorOptions) {
    this.gpio = gpio
    this.clock = clock
    const r = opts.ratioPct
    this.ratio = typeof r === 'function' ? r : () => r
    this.pulseMs = opts.pulseMs ?? 30
    this.schedule(0)
  }

  close(): void {
    this.closed = true
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    this.timer = null
  }

  private schedule(ms: number): void {
    if (this.closed) return
    this.timer = this.clock.setTimer(() => this.cycle(), ms)
  }

  private cycle(): void {
    const ratio = Math.min(99, Math.max(0, this.ratio()))
    if (ratio <= 0) {
      this.schedule(1000) // clean air: no pulses; look again in a second
      return
    }
    const period = (this.pulseMs * 100) / ratio
    this.gpio.set(0, this.clock.nowMs() * 1000)
    this.timer = this.clock.setTimer(() => {
      this.gpio.set(1, this.clock.nowMs() * 1000)
      this.schedule(period - this.pulseMs)
    }, this.pulseMs)
  }
}
