/** Nova SDS011 commands: AA B4 D1..D15 CS AB (19 bytes), CS = sum(D1..D15) & 0xFF, D14-D15 device id (FFFF = any). */
import { sdsChecksum } from './decode.js'

/** Build a command: D1 = id, D2.. = data (datasheet v1.3 "command" table). */
export function sdsCommand(id: number, data: readonly number[], deviceId = 0xffff): Uint8Array {
  const b = new Uint8Array(19)
  b[0] = 0xaa
  b[1] = 0xb4
  b[2] = id
  for (let i = 0; i < data.length && i < 12; i++) b[3 + i] = data[i] as number
  b[15] = (deviceId >> 8) & 0xff // wire order, as the datasheet writes ids (A160 → A1 60)
  b[16] = deviceId & 0xff
  b[17] = sdsChecksum(b, 2, 17)
  b[18] = 0xab
  return b
}

export const SDS_CMD_QUERY = sdsCommand(0x04, []) // → AA C0 data frame
export const SDS_CMD_MODE_QUERY = sdsCommand(0x02, [1, 1]) // set, query (passive) mode → AA C5 02 ...
export const SDS_CMD_MODE_ACTIVE = sdsCommand(0x02, [1, 0]) // set, active (report) mode, the factory default
/**
 * Set sleep and work, command ID 6 (Nova "Laser Dust Sensor Control Protocol" v1.3, §"Set sleep and work"; the
 * SDS011 datasheet v1.3 points to it): data byte 1 = 1 set, data byte 2 = 0 sleep or 1 work; the sensor answers
 * AA C5 06 01 <mode> ... in both cases. Asleep, laser and fan are off; the duty cycle wakes it 30 s before measuring.
 */
export const SDS_CMD_SLEEP = sdsCommand(0x06, [1, 0]) // set, sleep (laser and fan off, < 4 mA) → AA C5 06 ...
export const SDS_CMD_WAKE = sdsCommand(0x06, [1, 1]) // set, work: the full 19-byte command (paulvha/sds011#1)

/** Working period: 0 = continuous (1 s reports), 1-30 = one report every n minutes, sleeping in between. */
export function sdsCmdWorkingPeriod(minutes: number): Uint8Array {
  return sdsCommand(0x08, [1, Math.max(0, Math.min(30, Math.trunc(minutes)))])
}
