/** The Nova SDS011 driver: active (1 report/s) or query mode over a Uart, sleep/wake, 30 s warm-up. */
import type { TimerClock, Uart } from '../hal.js'
import type { ReadingFields } from '../readings.js'
import { type FrameKind, UartSensor, type UartSensorOptions } from '../uart-sensor.js'
import { SDS_CMD_MODE_ACTIVE, SDS_CMD_MODE_QUERY, SDS_CMD_QUERY, SDS_CMD_SLEEP, SDS_CMD_WAKE } from './commands.js'
import { decodeSds011Into, SDS_DATA, Sds011Frame, sds011FrameFormat } from './decode.js'

export interface Sds011Options extends UartSensorOptions {
  /** 'active' (factory default: a frame every second) or 'passive' (query mode: a frame per query). */
  mode?: 'active' | 'passive'
  /** Passive mode: minimum ms between queries (default 2000). */
  pollMs?: number
}

/**
 * 30 s warm-up after wake: Nova and the luftdaten project (ricki-z/SDS011#23); in query mode a read right after wake
 * can return zeros (ricki-z/SDS011#40).
 */
export const SDS011_DEFAULTS = { warmupMs: 30_000, timeoutMs: 10_000 }

export class Sds011 extends UartSensor {
  readonly model = 'sds011'
  readonly mode: 'active' | 'passive'
  readonly frame = new Sds011Frame()
  private readonly pollMs: number
  private lastPollMs = Number.NEGATIVE_INFINITY

  constructor(uart: Uart, clock: TimerClock, opts: Sds011Options) {
    super(uart, clock, sds011FrameFormat, 'sds011', opts, SDS011_DEFAULTS)
    this.mode = opts.mode ?? 'active'
    this.pollMs = opts.pollMs ?? 2000
  }

  protected sendWake(): void {
    // The full 19-byte work command (paulvha/sds011#1); some units answer the first wake with garbage, which the
    // scanner skips and the warm-up ignores (lewapek/sds-dust-sensors-arduino-library#6).
    this.uart.write(SDS_CMD_WAKE)
    this.uart.write(this.mode === 'passive' ? SDS_CMD_MODE_QUERY : SDS_CMD_MODE_ACTIVE)
    this.lastPollMs = Number.NEGATIVE_INFINITY
  }

  protected sendSleep(): void {
    this.uart.write(SDS_CMD_SLEEP)
  }

  protected override poll(nowMs: number): void {
    if (this.mode !== 'passive' || nowMs - this.lastPollMs < this.pollMs) return
    this.lastPollMs = nowMs
    this.uart.write(SDS_CMD_QUERY)
  }

  protected handleFrame(buf: Uint8Array, len: number): FrameKind {
    const fault = decodeSds011Into(buf, 0, len, this.frame)
    if (fault !== null) return fault
    return this.frame.type === SDS_DATA ? 'reading' : 'other' // 0xC5: a command reply
  }

  protected writeReading(out: ReadingFields): void {
    out.pm25 = this.frame.pm25
    out.pm10 = this.frame.pm10
  }
}
