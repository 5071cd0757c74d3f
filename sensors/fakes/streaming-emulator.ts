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

/** A sleep or wake the chip obeyed, at the emulator clock's time. */
export interface PowerEvent {
  readonly atMs: number
  readonly awake: boolean
}

export abstract class StreamingEmulator {
  /** Fan and laser on. Set it through power() so the change is reported. */
  awake: boolean
  /** Commands received, as hex, in order. */
  readonly commands: string[] = []
  /** Every sleep and wake the chip obeyed (a wake while awake or a sleep while asleep is not a change). */
  readonly power: PowerEvent[] = []
  /** Clock time of the last wake (or of construction when it starts awake); NaN while asleep. */
  awakeSinceMs: number
  /** Bytes of a command not yet complete: over a real serial line commands arrive split or back to back. */
  private pending = new Uint8Array(0)
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
    this.awakeSinceMs = this.awake ? clock.nowMs() : Number.NaN
    uart.onWrite = (bytes) => this.command(bytes)
  }

  /** Obeys a sleep or wake: reported in `power`, streaming stopped or started. */
  protected setAwake(awake: boolean): void {
    if (awake === this.awake) return
    this.awake = awake
    this.awakeSinceMs = awake ? this.clock.nowMs() : Number.NaN
    this.power.push({ atMs: this.clock.nowMs(), awake })
  }

  /**
   * Frames the driver's bytes into whole commands of `length` starting with `h0 h1`, whatever the chunking (a pty
   * delivers two commands in one read, or one in two); bytes before a header are skipped, as the chip skips them.
   */
  protected commandsIn(bytes: Uint8Array, h0: number, h1: number, length: number): Uint8Array[] {
    const buf = new Uint8Array(this.pending.length + bytes.length)
    buf.set(this.pending)
    buf.set(bytes, this.pending.length)
    const out: Uint8Array[] = []
    let i = 0
    while (i < buf.length) {
      if (buf[i] !== h0 || (i + 1 < buf.length && buf[i + 1] !== h1)) {
        i++
        continue
      }
      if (i + length > buf.length) break
      out.push(buf.slice(i, i + length))
      i += length
    }
    this.pending = buf.slice(i)
    return out
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
