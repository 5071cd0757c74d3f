/** Nova Fitness SDS011 (also SDS018/SDS021) frame decoder: 10 bytes, little-endian values (datasheet v1.3). */
import type { SensorFault } from '../driver.js'
import { type FrameFormat, NEED_MORE, NOT_A_START } from '../frame-scanner.js'

/*
 * Wire rules (Nova SDS011 datasheet v1.3, via ricki-z/SDS011#14; PyPMS novafitness/sds01x.py):
 *   0 0xAA | 1 0xC0 data or 0xC5 command reply | 2-3 PM2.5×10 LE | 4-5 PM10×10 LE | 6-7 device id
 *   | 8 checksum = sum(bytes 2..7) & 0xFF | 9 0xAB. The datasheet writes the id in wire order (bytes A1 60 = "ID A160"),
 *   so deviceId = byte6 << 8 | byte7.
 * In a 0xC5 reply, byte 2 echoes the command id (2 mode, 6 sleep/work, 7 firmware, 8 period).
 */
export const SDS_FRAME_LENGTH = 10
export const SDS_DATA = 0xc0
export const SDS_REPLY = 0xc5

export class Sds011Frame {
  /** 0xC0 data or 0xC5 command reply. */
  type = SDS_DATA
  /** µg/m³ (data frames). */
  pm25 = 0
  pm10 = 0
  deviceId = 0
  /** Command replies: the command id (byte 2) and its first two data bytes. */
  replyCmd = 0
  replyData = 0
}

export type Sds011Decoded = ({ ok: true } & Sds011Frame) | { ok: false; code: SensorFault }

const le16 = (b: Uint8Array, i: number): number => (b[i] as number) | ((b[i + 1] as number) << 8)

/** sum(bytes start..end) & 0xFF: the frame and command checksum. */
export function sdsChecksum(b: Uint8Array, start: number, end: number): number {
  let sum = 0
  for (let i = start; i < end; i++) sum += b[i] as number
  return sum & 0xff
}

export function checkSds011Frame(b: Uint8Array, off: number, len: number): SensorFault | null {
  if (len !== SDS_FRAME_LENGTH) return 'E_LENGTH'
  if (b[off] !== 0xaa || (b[off + 1] !== SDS_DATA && b[off + 1] !== SDS_REPLY)) return 'E_HEADER'
  if (b[off + 9] !== 0xab) return 'E_TAIL'
  if (sdsChecksum(b, off + 2, off + 8) !== b[off + 8]) return 'E_CHECKSUM'
  return null
}

/** Decode into a reused frame; null on success, else the fault. Allocates nothing. */
export function decodeSds011Into(b: Uint8Array, off: number, len: number, out: Sds011Frame): SensorFault | null {
  const fault = checkSds011Frame(b, off, len)
  if (fault !== null) return fault
  out.type = b[off + 1] as number
  out.deviceId = ((b[off + 6] as number) << 8) | (b[off + 7] as number)
  if (out.type === SDS_DATA) {
    out.pm25 = le16(b, off + 2) / 10
    out.pm10 = le16(b, off + 4) / 10
  } else {
    out.replyCmd = b[off + 2] as number
    out.replyData = le16(b, off + 3)
  }
  return null
}

export function decodeSds011(bytes: Uint8Array): Sds011Decoded {
  const f = new Sds011Frame()
  const fault = decodeSds011Into(bytes, 0, bytes.length, f)
  return fault === null ? Object.assign({ ok: true as const }, f) : { ok: false, code: fault }
}

export const sds011FrameFormat: FrameFormat = {
  maxLength: SDS_FRAME_LENGTH,
  frameLength(buf, fill) {
    if (buf[0] !== 0xaa) return NOT_A_START
    if (fill < 2) return NEED_MORE
    return buf[1] === SDS_DATA || buf[1] === SDS_REPLY ? SDS_FRAME_LENGTH : NOT_A_START
  },
  verify(buf, len) {
    return checkSds011Frame(buf, 0, len)
  },
}
