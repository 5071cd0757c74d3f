/** The part every UART chip emulator shares: frames cycled from a list, streamed on a timer while awake and active, replies after a delay. */
import type { TimerClock, TimerHandle } from '../hal.js'
import type { FakeUart } from './fake-uart.js'

export interface StreamingEmulatorOptions {
  /** Frames to send, cycled; or a function giving the next frame. */
  frames?: Uint8Array[] | (() => Uint8Array)
  /** Active-mode period. */
  periodMs?: number
  /** Delay before answering a command (default 20 ms). */
  replyDelayMs?: number
  /** Start asleep (default false: chips power up awake, streaming). */
  asleep?: boolean
}

export abstract class StreamingEmulator {
  awake: boolean
  /** Commands received, as hex, in order. */
  readonly commands: string[] = []
  protected readonly uart: FakeUart
  protected readonly clock: TimerClock
  protected readonly next: () => Uint8Array
  private readonly periodMs: number
  private readonly replyDelayMs: number
  private timer: TimerHandle | null = null

  constructor(uart: FakeUart, clock: TimerClock, opts: StreamingEmulatorOptions, defaults: { frameHex: string; periodMs: number }) {
    this.uart = uart
    this.clock = clock
    const frames = opts.frames ?? [Uint8Array.from(Buffer.from(defaults.frameHex, 'hex'))]
    let i = 0
    this.next = typeof frames === 'function' ? frames : () => frames[i++ % frames.length] as Uint8Array
    this.periodMs = opts.periodMs ?? defaults.periodMs
    this.replyDelayMs = opts.replyDelayMs ?? 20
    this.awake = !(opts.asleep ?? false)
    uart.onWrite = (bytes) => this.command(bytes)
  }

  /** True while the chip sends frames by itself (awake, in its active mode). */
  protected abstract streaming(): boolean
  /** Handles bytes the driver wrote. */
  protected abstract command(bytes: Uint8Array): void

  /** Stop all timers (call in the test's cleanup). */
  close(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    this.timer = null
    this.uart.onWrite = null
  }

  /** (Re)arms the streaming timer after a state change. */
  protected schedule(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    this.timer = null
    if (!this.streaming()) return
    this.timer = this.clock.setTimer(() => {
      this.timer = null
      this.uart.deliver(this.next())
      this.schedule()
    }, this.periodMs)
  }

  /** Sends `bytes` after the reply delay, as the chip answers a command. */
  protected reply(bytes: Uint8Array): void {
    this.clock.setTimer(() => this.uart.deliver(bytes), this.replyDelayMs)
  }
}
