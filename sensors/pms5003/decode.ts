/** Plantower PMS5003/PMS7003 data-frame decoder (32 bytes, big-endian; Plantower manual v2.3) and its frame format. */
import type { SensorFault } from '../driver.js'
import { BAD_LENGTH, type FrameFormat, NEED_MORE, NOT_A_START } from '../frame-scanner.js'

/*
 * Wire rules (Plantower PMS5003 manual v2.3; PyPMS pmsx003.py):
 *   0-1 0x42 0x4D ("BM") | 2-3 frame length = 28 (2*13+2) | 4-27 twelve u16: PM1/PM2.5/PM10 CF=1, PM1/PM2.5/PM10
 *   atmospheric, counts >0.3 >0.5 >1 >2.5 >5 >10 µm per 0.1 L | 28 "reserved" = firmware version | 29 error code |
 *   30-31 checksum = 16-bit sum of bytes 0..29.
 * Command replies are 8 bytes with length 4: 42 4D 00 04 CMD DATA CKH CKL.
 */
export const PMS_FRAME_LENGTH = 32
export const PMS_DATA_LENGTH_FIELD = 28
export const PMS_ACK_LENGTH = 8
export const PMS_ACK_LENGTH_FIELD = 4

/** One decoded data frame. A class so the driver can reuse one instance (decodePms5003Into). */
export class PmsFrame {
  pm1Cf1 = 0
  pm25Cf1 = 0
  pm10Cf1 = 0
  pm1 = 0
  pm25 = 0
  pm10 = 0
  n03 = 0
  n05 = 0
  n1 = 0
  n25 = 0
  n5 = 0
  n10 = 0
  version = 0
  errorCode = 0
  /** All twelve values zero: the fan is still spinning up (PyPMS raises SensorWarmingUp on a zero payload). */
  warming = false
}

export type PmsDecoded = ({ ok: true } & PmsFrame) | { ok: false; code: SensorFault; detail: string }

const u16 = (b: Uint8Array, i: number): number => (((b[i] as number) << 8) | (b[i + 1] as number)) >>> 0

/** The 16-bit sum of bytes [start, end) — the PMS frame and command checksum. */
export function pmsChecksum(b: Uint8Array, start: number, end: number): number {
  let sum = 0
  for (let i = start; i < end; i++) sum += b[i] as number
  return sum & 0xffff
}

/** Check a data frame at bytes[off..off+len) without decoding; null if valid. */
export function checkPmsFrame(bytes: Uint8Array, off: number, len: number): SensorFault | null {
  if (len < 4) return 'E_LENGTH'
  if (bytes[off] !== 0x42 || bytes[off + 1] !== 0x4d) return 'E_HEADER'
  const field = u16(bytes, off + 2)
  if (field !== PMS_DATA_LENGTH_FIELD || len !== PMS_FRAME_LENGTH) return 'E_LENGTH'
  if (pmsChecksum(bytes, off, off + 30) !== u16(bytes, off + 30)) return 'E_CHECKSUM'
  return null
}

/** Decode a frame into a reused `PmsFrame`; returns null on success or the fault. Allocates nothing. */
export function decodePms5003Into(bytes: Uint8Array, off: number, len: number, out: PmsFrame): SensorFault | null {
  const fault = checkPmsFrame(bytes, off, len)
  if (fault !== null) return fault
  out.pm1Cf1 = u16(bytes, off + 4)
  out.pm25Cf1 = u16(bytes, off + 6)
  out.pm10Cf1 = u16(bytes, off + 8)
  out.pm1 = u16(bytes, off + 10)
  out.pm25 = u16(bytes, off + 12)
  out.pm10 = u16(bytes, off + 14)
  out.n03 = u16(bytes, off + 16)
  out.n05 = u16(bytes, off + 18)
  out.n1 = u16(bytes, off + 20)
  out.n25 = u16(bytes, off + 22)
  out.n5 = u16(bytes, off + 24)
  out.n10 = u16(bytes, off + 26)
  out.version = bytes[off + 28] as number
  out.errorCode = bytes[off + 29] as number
  let any = 0
  for (let i = off + 4; i < off + 28; i++) any |= bytes[i] as number
  out.warming = any === 0
  return null
}

/** Decode one whole 32-byte frame (for tests, tools and the CLI; the driver uses decodePms5003Into). */
export function decodePms5003(bytes: Uint8Array): PmsDecoded {
  const frame = new PmsFrame()
  const fault = decodePms5003Into(bytes, 0, bytes.length, frame)
  if (fault === null) return Object.assign({ ok: true as const }, frame)
  const detail =
    fault === 'E_CHECKSUM'
      ? `checksum ${u16(bytes, 30)} != ${pmsChecksum(bytes, 0, 30)}`
      : fault === 'E_HEADER'
        ? 'frame does not start with 0x42 0x4D'
        : `frame of ${bytes.length} bytes, length field ${bytes.length >= 4 ? u16(bytes, 2) : '?'}`
  return { ok: false, code: fault, detail }
}

/** PyPMS's consistency rule: PM10 mass with no particle counted at all cannot be a real observation. */
export function pmsConsistent(f: PmsFrame): boolean {
  return !(f.pm10 > 0 && f.n03 === 0)
}

/** Framing for FrameScanner: 0x42 0x4D, then length 28 (data, 32 bytes) or 4 (command reply, 8 bytes). */
export const pmsFrameFormat: FrameFormat = {
  maxLength: PMS_FRAME_LENGTH,
  frameLength(buf, fill) {
    if (buf[0] !== 0x42) return NOT_A_START
    if (fill < 2) return NEED_MORE
    if (buf[1] !== 0x4d) return NOT_A_START
    if (fill < 4) return NEED_MORE
    const field = u16(buf, 2)
    if (field === PMS_DATA_LENGTH_FIELD) return PMS_FRAME_LENGTH
    if (field === PMS_ACK_LENGTH_FIELD) return PMS_ACK_LENGTH
    return BAD_LENGTH
  },
  verify(buf, len) {
    return pmsChecksum(buf, 0, len - 2) === u16(buf, len - 2) ? null : 'E_CHECKSUM'
  },
}
