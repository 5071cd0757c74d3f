/** An MH-Z19B emulator on a byte line (a FakeUart, or a bridge to a pty): answers read (0x86), records ABC, range and zero. */
import type { TimerClock } from '../hal.js'
import { MHZ_FRAME_LENGTH, mhzChecksum } from '../mhz19/decode.js'

/** Encode a read reply: CO₂ ppm and the undocumented temperature byte (°C + 40). */
export function encodeMhzReading(ppm: number, tempC = 26): Uint8Array {
  const f = Uint8Array.of(0xff, 0x86, (ppm >> 8) & 0xff, ppm & 0xff, (tempC + 40) & 0xff, 0, 0, 0, 0)
  f[8] = mhzChecksum(f, 0)
  return f
}

/** PyPMS tests/captured_data/MHZ19B.hexdump, first frame: 636 ppm, TT 0x42 (26 °C). */
export const MHZ_CAPTURED_FRAME_HEX = 'ff86027c42000000ba'

/** The sensor's side of a line: what the host writes arrives in onWrite (in any chunks); deliver() sends to the host. */
export interface EmulatorLine {
  onWrite: ((bytes: Uint8Array) => void) | null
  deliver(bytes: Uint8Array): void
}

export class Mhz19bEmulator {
  /** Factory default: ABC on. */
  abc = true
  range = 5000
  /** Zero-point calibrations (0x87) received with a good checksum (the emulator sends no reply to them). */
  zeroCalibrations = 0
  /** Every whole command received (9 bytes from a 0xFF), as hex, good checksum or not. */
  readonly commands: string[] = []
  private readonly uart: EmulatorLine
  private readonly clock: TimerClock
  private readonly next: () => Uint8Array
  private readonly replyDelayMs: number
  /** Bytes of a command still arriving (a pty delivers writes in arbitrary chunks). */
  private readonly pending = new Uint8Array(MHZ_FRAME_LENGTH)
  private fill = 0

  constructor(uart: EmulatorLine, clock: TimerClock, opts: { frames?: Uint8Array[] | (() => Uint8Array); replyDelayMs?: number } = {}) {
    this.uart = uart
    this.clock = clock
    const frames = opts.frames ?? [Uint8Array.from(Buffer.from(MHZ_CAPTURED_FRAME_HEX, 'hex'))]
    let i = 0
    this.next = typeof frames === 'function' ? frames : () => frames[i++ % frames.length] as Uint8Array
    this.replyDelayMs = opts.replyDelayMs ?? 20
    uart.onWrite = (b) => this.receive(b)
  }

  close(): void {
    this.uart.onWrite = null
  }

  /** Collects 9-byte commands starting at 0xFF (bytes before a 0xFF are line noise, skipped as the chip would). */
  private receive(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (this.fill === 0 && byte !== 0xff) continue
      this.pending[this.fill++] = byte
      if (this.fill === MHZ_FRAME_LENGTH) {
        this.fill = 0
        this.command(Uint8Array.from(this.pending))
      }
    }
  }

  private command(b: Uint8Array): void {
    this.commands.push(Buffer.from(b).toString('hex'))
    if (b[1] !== 0x01 || mhzChecksum(b, 0) !== b[8]) return
    const cmd = b[2] as number
    if (cmd === 0x86) {
      const f = this.next()
      this.clock.setTimer(() => this.uart.deliver(f), this.replyDelayMs)
    } else if (cmd === 0x79) {
      this.abc = b[3] === 0xa0
    } else if (cmd === 0x87) {
      this.zeroCalibrations++
    } else if (cmd === 0x99) {
      this.range = ((b[6] as number) << 8) | (b[7] as number)
    }
  }
}
