/** Winsen MH-Z19B commands: FF 01 CMD D1..D5 CS (9 bytes; manual v1.6). */
import { mhzChecksum } from './decode.js'

export function mhzCommand(cmd: number, data: readonly number[]): Uint8Array {
  const b = new Uint8Array(9)
  b[0] = 0xff
  b[1] = 0x01
  b[2] = cmd
  for (let i = 0; i < data.length && i < 5; i++) b[3 + i] = data[i] as number
  b[8] = mhzChecksum(b, 0)
  return b
}

export const MHZ_CMD_READ = mhzCommand(0x86, []) // FF 01 86 00 00 00 00 00 79
export const MHZ_CMD_ZERO = mhzCommand(0x87, []) // zero point = 400 ppm; only after ≥ 20 min in fresh air
export const MHZ_CMD_ABC_ON = mhzCommand(0x79, [0xa0]) // FF 01 79 A0 00 00 00 00 E6
export const MHZ_CMD_ABC_OFF = mhzCommand(0x79, [0x00]) // FF 01 79 00 00 00 00 00 86

/** Span calibration at `ppm` (e.g. 2000: FF 01 88 07 D0 00 00 00 A0). */
export function mhzCmdSpan(ppm: number): Uint8Array {
  return mhzCommand(0x88, [(ppm >> 8) & 0xff, ppm & 0xff])
}

/** Detection range 2000 or 5000 ppm (FF 01 99 00 00 00 HH LL CS). */
export function mhzCmdRange(ppm: 2000 | 5000): Uint8Array {
  return mhzCommand(0x99, [0, 0, 0, (ppm >> 8) & 0xff, ppm & 0xff])
}
