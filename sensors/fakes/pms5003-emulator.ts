/** A PMS5003 emulator on a FakeUart: answers the real commands and streams frames, for driver tests and the demo. */
import type { TimerClock } from '../hal.js'
import { pmsChecksum } from '../pms5003/decode.js'
import type { FakeUart } from './fake-uart.js'
import { StreamingEmulator, type StreamingEmulatorOptions } from './streaming-emulator.js'

/** The twelve values of a data frame, in wire order (see pms5003/decode.ts). */
export interface PmsValues {
  pm1Cf1: number
  pm25Cf1: number
  pm10Cf1: number
  pm1: number
  pm25: number
  pm10: number
  n03: number
  n05: number
  n1: number
  n25: number
  n5: number
  n10: number
}

/** Encode a 32-byte data frame (firmware 0x97, error 0) as the chip would send it. */
export function encodePmsFrame(v: PmsValues, version = 0x97): Uint8Array {
  const b = new Uint8Array(32)
  b[0] = 0x42
  b[1] = 0x4d
  b[3] = 28
  const vals = [v.pm1Cf1, v.pm25Cf1, v.pm10Cf1, v.pm1, v.pm25, v.pm10, v.n03, v.n05, v.n1, v.n25, v.n5, v.n10]
  vals.forEach((x, i) => {
    b[4 + 2 * i] = (x >> 8) & 0xff
    b[5 + 2 * i] = x & 0xff
  })
  b[28] = version
  const ck = pmsChecksum(b, 0, 30)
  b[30] = ck >> 8
  b[31] = ck & 0xff
  return b
}

function ack(cmd: number, data: number): Uint8Array {
  const b = Uint8Array.of(0x42, 0x4d, 0x00, 0x04, cmd, data, 0, 0)
  const ck = pmsChecksum(b, 0, 6)
  b[6] = ck >> 8
  b[7] = ck & 0xff
  return b
}

/** Options (period default 2300 ms, the manual's stable-air cadence; frames default: the PyPMS captured frame). */
export type PmsEmulatorOptions = StreamingEmulatorOptions

/** PyPMS tests/captured_data/data.csv: PM2.5 atm 8, n0.3 = 210, firmware 0x97. */
export const PMS_CAPTURED_FRAME_HEX = '424d001c00000008000800000008000800d20046002d001e00000000970002c5'

export class Pms5003Emulator extends StreamingEmulator {
  mode: 'active' | 'passive' = 'active'

  constructor(uart: FakeUart, clock: TimerClock, opts: PmsEmulatorOptions = {}) {
    super(uart, clock, opts, { frameHex: PMS_CAPTURED_FRAME_HEX, periodMs: 2300 })
    this.schedule()
  }

  protected override streaming(): boolean {
    return this.awake && this.mode === 'active'
  }

  protected override command(b: Uint8Array): void {
    for (const cmd of this.commandsIn(b, 0x42, 0x4d, 7)) {
      this.commands.push(Buffer.from(cmd).toString('hex'))
      if (pmsChecksum(cmd, 0, 5) !== (((cmd[5] as number) << 8) | (cmd[6] as number))) continue
      const code = cmd[2] as number
      const data = cmd[4] as number
      if (code === 0xe4) {
        // Sleep set (manual v2.3, Appendix B): 00 sleep (acknowledged), 01 wake (no reply; frames after spin-up).
        if (data === 0) this.reply(ack(0xe4, 0))
        this.setAwake(data === 1)
      } else if (!this.awake) {
        continue // asleep: only wake is heard
      } else if (code === 0xe1) {
        this.mode = data === 0 ? 'passive' : 'active'
        this.reply(ack(0xe1, data))
      } else if (code === 0xe2 && this.mode === 'passive') {
        this.reply(this.next())
      }
      this.schedule()
    }
  }
}
