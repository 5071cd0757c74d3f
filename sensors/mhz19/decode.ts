/** Winsen MH-Z19B frame decoder: 9 bytes, FF CMD D1..D6 CS, CS = two's complement of bytes 1..7 (manual v1.6). */
import type { SensorFault } from '../driver.js'
import { type FrameFormat, NEED_MORE, NOT_A_START } from '../frame-scanner.js'

/*
 * Reply to read (0x86): FF 86 HH LL TT SS U1 U2 CS; CO₂ ppm = HH×256 + LL. TT − 40 ≈ internal °C (undocumented,
 * UedaTakeyuki/mh-z19#1). Checksum: (0xFF − (sum(bytes 1..7) & 0xFF) + 1) & 0xFF — the masked form; PyPMS's
 * 0x100 − sum % 0x100 gives 256 when the sum is 0 mod 256 (Winsen MH-Z19B manual v1.6).
 */
export const MHZ_FRAME_LENGTH = 9
export const MHZ_READ = 0x86
/** Command ids a sensor may answer with (read, zero, span, ABC, range); any other second byte is noise. */
const REPLY_IDS = new Set([0x86, 0x87, 0x88, 0x79, 0x99])

export class Mhz19Frame {
  cmd = 0
  /** ppm (read replies). */
  co2 = 0
  /** TT − 40, °C: the sensor's own temperature, undocumented. */
  sensorTemp = 0
  /** All data bytes zero: preheating (PyPMS treats a zero payload as warming up). */
  warming = false
}

export type Mhz19Decoded = ({ ok: true } & Mhz19Frame) | { ok: false; code: SensorFault }

export function mhzChecksum(b: Uint8Array, off: number): number {
  let sum = 0
  for (let i = off + 1; i < off + 8; i++) sum += b[i] as number
  return (0xff - (sum & 0xff) + 1) & 0xff
}

export function checkMhz19Frame(b: Uint8Array, off: number, len: number): SensorFault | null {
  if (len !== MHZ_FRAME_LENGTH) return 'E_LENGTH'
  if (b[off] !== 0xff) return 'E_HEADER'
  if (mhzChecksum(b, off) !== b[off + 8]) return 'E_CHECKSUM'
  return null
}

export function decodeMhz19Into(b: Uint8Array, off: number, len: number, out: Mhz19Frame): SensorFault | null {
  const fault = checkMhz19Frame(b, off, len)
  if (fault !== null) return fault
  out.cmd = b[off + 1] as number
  out.co2 = ((b[off + 2] as number) << 8) | (b[off + 3] as number)
  out.sensorTemp = (b[off + 4] as number) - 40
  let any = 0
  for (let i = off + 2; i < off + 8; i++) any |= b[i] as number
  out.warming = any === 0
  return null
}

export function decodeMhz19(bytes: Uint8Array): Mhz19Decoded {
  const f = new Mhz19Frame()
  const fault = decodeMhz19Into(bytes, 0, bytes.length, f)
  return fault === null ? Object.assign({ ok: true as const }, f) : { ok: false, code: fault }
}

export const mhz19FrameFormat: FrameFormat = {
  maxLength: MHZ_FRAME_LENGTH,
  frameLength(buf, fill) {
    if (buf[0] !== 0xff) return NOT_A_START
    if (fill < 2) return NEED_MORE
    return REPLY_IDS.has(buf[1] as number) ? MHZ_FRAME_LENGTH : NOT_A_START
  },
  verify(buf, len) {
    return checkMhz19Frame(buf, 0, len)
  },
}
