/** The Winsen MH-Z19B CO₂ driver: read command over a Uart, automatic baseline calibration on, off or left as it is. */
import type { TimerClock, Uart } from '../hal.js'
import type { ReadingFields } from '../readings.js'
import { type FrameKind, UartSensor, type UartSensorOptions } from '../uart-sensor.js'
import { MHZ_CMD_ABC_OFF, MHZ_CMD_ABC_ON, MHZ_CMD_READ, mhzCmdRange } from './commands.js'
import { decodeMhz19Into, MHZ_READ, Mhz19Frame, mhz19FrameFormat } from './decode.js'

/**
 * What to do with automatic baseline calibration at each wake: send ABC on (0x79 A0), send ABC off (0x79 00), or
 * send nothing and leave the chip's own setting (the factory's is on; the manual documents no way to read it back).
 */
export type AbcPolicy = 'on' | 'off' | 'leave'

/** Read from a config: 'on', 'off' or 'leave'; true and false (configs written before 'leave') mean 'on' and 'off'. */
export function abcPolicyOf(v: AbcPolicy | boolean | undefined): AbcPolicy {
  if (v === true) return 'on'
  if (v === false || v === undefined) return 'off'
  return v
}

export interface Mhz19bOptions extends UartSensorOptions {
  /**
   * Automatic baseline calibration (default 'off'). The factory turns it on: every 24 h it re-bases the lowest reading
   * to 400 ppm, which is wrong in rooms never aired to outdoor air (kizniche/Mycodo#545, letscontrolit/ESPEasy#466).
   * `true`/`false` are read as 'on'/'off'.
   */
  abc?: AbcPolicy | boolean
  /** Detection range to set at start (default: leave the sensor's setting). */
  range?: 2000 | 5000
  /** Minimum ms between read commands (default 2000). */
  pollMs?: number
}

/** Preheat 3 min (PyPMS PREHEAT = 180; datasheet T90 < 120 s). */
export const MHZ19B_DEFAULTS = { warmupMs: 180_000, timeoutMs: 15_000 }

/** Above any MH-Z19 variant's range (2000/5000/10000 ppm): a frame that checks but cannot be a reading. */
const MAX_PPM = 10_000

export class Mhz19b extends UartSensor {
  readonly model = 'mhz19b'
  readonly frame = new Mhz19Frame()
  private readonly abcCmd: Uint8Array | null
  /** The policy and what was last sent ('none' until the first wake, and always for 'leave'): `status.chip`. */
  private readonly abcState: { abc: AbcPolicy; abcSent: 'on' | 'off' | 'none' }
  private readonly rangeCmd: Uint8Array | null
  private readonly pollMs: number
  private lastPollMs = Number.NEGATIVE_INFINITY

  constructor(uart: Uart, clock: TimerClock, opts: Mhz19bOptions) {
    super(uart, clock, mhz19FrameFormat, 'mhz19b', opts, MHZ19B_DEFAULTS)
    const abc = abcPolicyOf(opts.abc)
    this.abcCmd = abc === 'on' ? MHZ_CMD_ABC_ON : abc === 'off' ? MHZ_CMD_ABC_OFF : null
    this.abcState = { abc, abcSent: 'none' }
    this.status.chip = this.abcState // said in every summary status message
    this.rangeCmd = opts.range === undefined ? null : mhzCmdRange(opts.range)
    this.pollMs = opts.pollMs ?? 2000
  }

  /** No sleep command exists; "waking" (re)applies the configuration, every start and every retry. */
  protected sendWake(): void {
    if (this.abcCmd !== null) {
      this.uart.write(this.abcCmd)
      this.abcState.abcSent = this.abcCmd === MHZ_CMD_ABC_ON ? 'on' : 'off'
    }
    if (this.rangeCmd !== null) this.uart.write(this.rangeCmd)
    this.lastPollMs = Number.NEGATIVE_INFINITY
  }

  protected sendSleep(): void {}

  protected override poll(nowMs: number): void {
    if (nowMs - this.lastPollMs < this.pollMs) return
    this.lastPollMs = nowMs
    this.uart.write(MHZ_CMD_READ)
  }

  protected handleFrame(buf: Uint8Array, len: number): FrameKind {
    const fault = decodeMhz19Into(buf, 0, len, this.frame)
    if (fault !== null) return fault
    if (this.frame.cmd !== MHZ_READ || this.frame.warming) return 'other'
    return this.frame.co2 > MAX_PPM ? 'E_RANGE' : 'reading'
  }

  protected writeReading(out: ReadingFields): void {
    out.co2 = this.frame.co2
  }
}
