/** Plantower PMS5003/PMS7003 commands: 42 4D CMD DATAH DATAL CKH CKL, checksum = 16-bit sum of the first five bytes. */
import { pmsChecksum } from './decode.js'

/** Build a 7-byte command (Plantower manual v2.3, "host protocol"). */
export function pmsCommand(cmd: number, data: number): Uint8Array {
  const b = new Uint8Array(7)
  b[0] = 0x42
  b[1] = 0x4d
  b[2] = cmd
  b[3] = (data >> 8) & 0xff
  b[4] = data & 0xff
  const ck = pmsChecksum(b, 0, 5)
  b[5] = ck >> 8
  b[6] = ck & 0xff
  return b
}

/** Built once at load: the driver writes these same arrays every time. */
export const PMS_CMD_PASSIVE_READ = pmsCommand(0xe2, 0) // 42 4D E2 00 00 01 71 → one data frame
export const PMS_CMD_MODE_PASSIVE = pmsCommand(0xe1, 0) // 42 4D E1 00 00 01 70 → ack 42 4D 00 04 E1 00 01 74
export const PMS_CMD_MODE_ACTIVE = pmsCommand(0xe1, 1) // 42 4D E1 00 01 01 71 (power-up default)
/**
 * Sleep set, CMD 0xE4 (Plantower PMS5003 data manual v2.3, Appendix B "Transport protocol - passive mode", command
 * table: DATAL 00H sleep, 01H wakeup): sleep turns the fan and laser off (standby current <= 200 uA, Technical Index);
 * after wakeup the fan needs 30 s before the data are stable (the manual's note 3 on the SET pin; the duty cycle's
 * default warm-up). The SET pin (pin 3, low = sleep) does the same in hardware; the duty cycle uses the command.
 */
export const PMS_CMD_SLEEP = pmsCommand(0xe4, 0) // 42 4D E4 00 00 01 73 → ack 42 4D 00 04 E4 00 01 77
export const PMS_CMD_WAKE = pmsCommand(0xe4, 1) // 42 4D E4 00 01 01 74 → data frames after spin-up
