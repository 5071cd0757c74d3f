/** An SDS011 emulator on a FakeUart: answers the real 19-byte commands and streams 10-byte frames. */
import type { TimerClock, TimerHandle } from '../hal.js'
import { sdsChecksum } from '../sds011/decode.js'
import type { FakeUart } from './fake-uart.js'

/** Encode a data frame (PM in µg/m³, one decimal) as the chip sends it. */
export function encodeSdsFrame(pm25: number, pm10: number, deviceId = 0x58d9): Uint8Array {
  const a = Math.round(pm25 * 10)
  const b = Math.round(pm10 * 10)
  const f = Uint8Array.of(0xaa, 0xc0, a & 0xff, a >> 8, b & 0xff, b >> 8, deviceId >> 8, deviceId & 0xff, 0, 0xab)
  f[8] = sdsChecksum(f, 2, 8)
  return f
}

function reply(cmd: number, d1: number, d2: number, deviceId: number): Uint8Array {
  const f = Uint8Array.of(0xaa, 0xc5, cmd, d1, d2, 0, deviceId >> 8, deviceId & 0xff, 0, 0xab)
  f[8] = sdsChecksum(f, 2, 8)
  return f
}

export interface SdsEmulatorOptions {
  frames?: Uint8Array[] | (() => Uint8Array)
  /** Active-mode period (default 1000 ms: working period 0). */
  periodMs?: number
  replyDelayMs?: number
  asleep?: boolean
}

/** PyPMS tests/captured_data/SDS01x.hexdump, first frame: PM2.5 = PM10 = 0.6, id 0x58d9. */
export const SDS_CAPTURED_FRAME_HEX = 'aac00600060058d93dab'

export class Sds011Emulator {
  awake: boolean
  mode: 'active' | 'query' = 'active'
  readonly commands: string[] = []
  private readonly uart: FakeUart
  private readonly clock: TimerClock
  private readonly next: () => Uint8Array
  private readonly periodMs: number
  private readonly replyDelayMs: number
  private timer: TimerHandle | null = null

  constructor(uart: FakeUart, clock: TimerClock, opts: SdsEmulatorOptions = {}) {
    this.uart = uart
    this.clock = clock
    const frames = opts.frames ?? [Uint8Array.from(Buffer.from(SDS_CAPTURED_FRAME_HEX, 'hex'))]
    let i = 0
    this.next = typeof frames === 'function' ? frames : () => frames[i++ % frames.length] as Uint8Array
    this.periodMs = opts.periodMs ?? 1000
    this.replyDelayMs = opts.replyDelayMs ?? 20
    this.awake = !(opts.asleep ?? false)
    uart.onWrite = (b) => this.command(b)
    this.schedule()
  }

  close(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    this.timer = null
    this.uart.onWrite = null
  }

  private schedule(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    this.timer = null
    if (!this.awake || this.mode !== 'active') return
    this.timer = this.clock.setTimer(() => {
      this.timer = null
      this.uart.deliver(this.next())
      this.schedule()
    }, this.periodMs)
  }

  private send(b: Uint8Array): void {
    this.clock.setTimer(() => this.uart.deliver(b), this.replyDelayMs)
  }

  private command(b: Uint8Array): void {
    this.commands.push(Buffer.from(b).toString('hex'))
    if (b.length !== 19 || b[0] !== 0xaa || b[1] !== 0xb4 || b[18] !== 0xab || sdsChecksum(b, 2, 17) !== b[17]) return
    const id = b[2] as number
    const set = b[3] === 1
    const val = b[4] as number
    if (id === 0x06) {
      if (set) this.awake = val === 1
      this.send(reply(0x06, b[3] as number, this.awake ? 1 : 0, 0x58d9))
    } else if (!this.awake) {
      return
    } else if (id === 0x02) {
      if (set) this.mode = val === 1 ? 'query' : 'active'
      this.send(reply(0x02, b[3] as number, this.mode === 'query' ? 1 : 0, 0x58d9))
    } else if (id === 0x04) {
      this.send(this.next())
    }
    this.schedule()
  }
}
