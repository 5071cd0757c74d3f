/** An MH-Z19B emulator on a FakeUart: answers read (0x86) and records ABC and range settings. */
import type { TimerClock } from '../hal.js'
import { mhzChecksum } from '../mhz19/decode.js'
import type { FakeUart } from './fake-uart.js'

/** Encode a read reply: CO₂ ppm and the undocumented temperature byte (°C + 40). */
export function encodeMhzReading(ppm: number, tempC = 26): Uint8Array {
  const f = Uint8Array.of(0xff, 0x86, (ppm >> 8) & 0xff, ppm & 0xff, (tempC + 40) & 0xff, 0, 0, 0, 0)
  f[8] = mhzChecksum(f, 0)
  return f
}

/** PyPMS tests/captured_data/MHZ19B.hexdump, first frame: 636 ppm, TT 0x42 (26 °C). */
export const MHZ_CAPTURED_FRAME_HEX = 'ff86027c42000000ba'

export class Mhz19bEmulator {
  /** Factory default: ABC on. */
  abc = true
  range = 5000
  readonly commands: string[] = []
  private readonly uart: FakeUart
  private readonly clock: TimerClock
  private readonly next: () => Uint8Array
  private readonly replyDelayMs: number

  constructor(uart: FakeUart, clock: TimerClock, opts: { frames?: Uint8Array[] | (() => Uint8Array); replyDelayMs?: number } = {}) {
    this.uart = uart
    this.clock = clock
    const frames = opts.frames ?? [Uint8Array.from(Buffer.from(MHZ_CAPTURED_FRAME_HEX, 'hex'))]
    let i = 0
    this.next = typeof frames === 'function' ? frames : () => frames[i++ % frames.length] as Uint8Array
    this.replyDelayMs = opts.replyDelayMs ?? 20
    uart.onWrite = (b) => this.command(b)
  }

  close(): void {
    this.uart.onWrite = null
  }

  private command(b: Uint8Array): void {
    this.commands.push(Buffer.from(b).toString('hex'))
    if (b.length !== 9 || b[0] !== 0xff || b[1] !== 0x01 || mhzChecksum(b, 0) !== b[8]) return
    const cmd = b[2] as number
    if (cmd === 0x86) {
      const f = this.next()
      this.clock.setTimer(() => this.uart.deliver(f), this.replyDelayMs)
    } else if (cmd === 0x79) {
      this.abc = b[3] === 0xa0
    } else if (cmd === 0x99) {
      this.range = ((b[6] as number) << 8) | (b[7] as number)
    }
  }
}
