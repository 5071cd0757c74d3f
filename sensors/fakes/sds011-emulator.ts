/** An SDS011 emulator on a FakeUart: answers the real 19-byte commands and streams 10-byte frames. */
import type { TimerClock } from '../hal.js'
import { sdsChecksum } from '../sds011/decode.js'
import type { FakeUart } from './fake-uart.js'
import { StreamingEmulator, type StreamingEmulatorOptions } from './streaming-emulator.js'

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

/** Options (period default 1000 ms: working period 0; frames default: the PyPMS captured frame). */
export type SdsEmulatorOptions = StreamingEmulatorOptions

/** PyPMS tests/captured_data/SDS01x.hexdump, first frame: PM2.5 = PM10 = 0.6, id 0x58d9. */
export const SDS_CAPTURED_FRAME_HEX = 'aac00600060058d93dab'

export class Sds011Emulator extends StreamingEmulator {
  mode: 'active' | 'query' = 'active'

  constructor(uart: FakeUart, clock: TimerClock, opts: SdsEmulatorOptions = {}) {
    super(uart, clock, opts, { frameHex: SDS_CAPTURED_FRAME_HEX, periodMs: 1000 })
    this.schedule()
  }

  protected override streaming(): boolean {
    return this.awake && this.mode === 'active'
  }

  protected override command(bytes: Uint8Array): void {
    for (const b of this.commandsIn(bytes, 0xaa, 0xb4, 19)) this.one(b)
  }

  private one(b: Uint8Array): void {
    this.commands.push(Buffer.from(b).toString('hex'))
    if (b[18] !== 0xab || sdsChecksum(b, 2, 17) !== b[17]) return
    const id = b[2] as number
    const set = b[3] === 1
    const val = b[4] as number
    if (id === 0x06) {
      // Set sleep and work (control protocol v1.3, command 6): data byte 3 = 0 sleep, 1 work; answered either way.
      if (set) this.setAwake(val === 1)
      this.reply(reply(0x06, b[3] as number, this.awake ? 1 : 0, 0x58d9))
    } else if (!this.awake) {
      return
    } else if (id === 0x02) {
      if (set) this.mode = val === 1 ? 'query' : 'active'
      this.reply(reply(0x02, b[3] as number, this.mode === 'query' ? 1 : 0, 0x58d9))
    } else if (id === 0x04) {
      this.reply(this.next())
    }
    this.schedule()
  }
}
