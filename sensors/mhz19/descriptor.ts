/** The MH-Z19B descriptor: a UART chip at 9600 8N1, always queried, automatic baseline calibration (`abc`) off unless configured. */
import { readBoolean } from '../config-fields.js'
import type { UartSensorDescriptor } from '../descriptor.js'
import { MHZ19B_DEFAULTS, Mhz19b } from './mhz19b.js'

export const mhz19bDescriptor: UartSensorDescriptor = {
  types: ['mhz19b'],
  label: 'MH-Z19B',
  bus: 'uart',
  baud: 9600,
  warmupSeconds: MHZ19B_DEFAULTS.warmupMs / 1000,
  settings: {
    /** Off by default: ABC re-bases the lowest reading of each day to 400 ppm, wrong in rooms never aired (mhz19b.ts). */
    abc: (v, field) => readBoolean(v, field, false),
  },
  create: (uart, clock, cfg, health) =>
    new Mhz19b(uart, clock, { ...health, id: cfg.id, abc: cfg.abc === true, warmupMs: cfg.warmupSeconds * 1000 }),
}
