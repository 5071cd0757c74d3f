/** The Plantower PMS5003/PMS7003 driver: active or passive mode over a Uart, sleep/wake, 30 s warm-up. */
import type { TimerClock, Uart } from '../hal.js'
import type { ReadingFields } from '../readings.js'
import { type FrameKind, UartSensor, type UartSensorOptions } from '../uart-sensor.js'
import { PMS_CMD_MODE_ACTIVE, PMS_CMD_MODE_PASSIVE, PMS_CMD_PASSIVE_READ, PMS_CMD_SLEEP, PMS_CMD_WAKE } from './commands.js'
import { decodePms5003Into, PMS_FRAME_LENGTH, PmsFrame, pmsConsistent, pmsFrameFormat } from './decode.js'

export interface Pms5003Options extends UartSensorOptions {
  /** 'pms5003' (default) or 'pms7003': same protocol. */
  model?: 'pms5003' | 'pms7003'
  /**
   * 'active' (power-up default: a frame every ~2.3 s, 200-800 ms when readings change fast) or 'passive' (a frame
   * only when asked; the driver asks from sample() at most every `pollMs`).
   */
  mode?: 'active' | 'passive'
  /** Passive mode: minimum ms between read commands (default 2000). */
  pollMs?: number
}

/** Defaults: 30 s warm-up after wake (fan spin-up: Plantower spec text, JosephFerano/pmme pms7003-spec.txt). */
export const PMS_DEFAULTS = { warmupMs: 30_000, timeoutMs: 10_000 }

export class Pms5003 extends UartSensor {
  readonly model: string
  readonly mode: 'active' | 'passive'
  /** The last decoded frame (firmware version and error code included), reused for every frame. */
  readonly frame = new PmsFrame()
  private readonly pollMs: number
  private lastPollMs = Number.NEGATIVE_INFINITY

  constructor(uart: Uart, clock: TimerClock, opts: Pms5003Options) {
    const model = opts.model ?? 'pms5003'
    super(uart, clock, pmsFrameFormat, model, opts, PMS_DEFAULTS)
    this.model = model
    this.mode = opts.mode ?? 'active'
    this.pollMs = opts.pollMs ?? 2000
  }

  protected sendWake(): void {
    this.uart.write(PMS_CMD_WAKE)
    this.uart.write(this.mode === 'passive' ? PMS_CMD_MODE_PASSIVE : PMS_CMD_MODE_ACTIVE)
    // An active frame can be in flight across the mode switch: drop any partial frame.
    this.scanner.reset()
    this.lastPollMs = Number.NEGATIVE_INFINITY
  }

  protected sendSleep(): void {
    this.uart.write(PMS_CMD_SLEEP)
  }

  protected override poll(nowMs: number): void {
    if (this.mode !== 'passive' || nowMs - this.lastPollMs < this.pollMs) return
    this.lastPollMs = nowMs
    this.uart.write(PMS_CMD_PASSIVE_READ)
  }

  protected handleFrame(buf: Uint8Array, len: number): FrameKind {
    if (len !== PMS_FRAME_LENGTH) return 'other' // a command acknowledgement (42 4D 00 04 ...)
    const fault = decodePms5003Into(buf, 0, len, this.frame)
    if (fault !== null) return fault
    if (this.frame.warming) return 'other' // zero payload: still spinning up
    if (!pmsConsistent(this.frame)) return 'E_RANGE'
    return 'reading'
  }

  protected writeReading(out: ReadingFields): void {
    const f = this.frame
    out.pm1 = f.pm1
    out.pm25 = f.pm25
    out.pm10 = f.pm10
    out.pm1Cf1 = f.pm1Cf1
    out.pm25Cf1 = f.pm25Cf1
    out.pm10Cf1 = f.pm10Cf1
    out.n03 = f.n03
    out.n05 = f.n05
    out.n1 = f.n1
    out.n25 = f.n25
    out.n5 = f.n5
    out.n10 = f.n10
  }
}
