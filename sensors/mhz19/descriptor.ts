/** The MH-Z19B descriptor: a UART chip at 9600 8N1, always queried, automatic baseline calibration (`abc`) on, off or left. */
import { readOneOf } from '../config-fields.js'
import type { UartSensorDescriptor } from '../descriptor.js'
import { type AbcPolicy, MHZ19B_DEFAULTS, Mhz19b } from './mhz19b.js'

const ABC_POLICIES: readonly AbcPolicy[] = ['on', 'off', 'leave']

export const mhz19bDescriptor: UartSensorDescriptor = {
  types: ['mhz19b'],
  label: 'MH-Z19B',
  bus: 'uart',
  baud: 9600,
  warmupSeconds: MHZ19B_DEFAULTS.warmupMs / 1000,
  settings: {
    /**
     * 'off' by default (as before 'leave' existed): ABC re-bases the lowest reading of each day to 400 ppm, wrong in
     * rooms never aired (mhz19b.ts). true/false, from configs written before the policy, are read as 'on'/'off'.
     */
    abc: (v, field) => readOneOf(v === true ? 'on' : v === false ? 'off' : v, field, ABC_POLICIES, 'off'),
  },
  create: (uart, clock, cfg, health) =>
    new Mhz19b(uart, clock, { ...health, id: cfg.id, abc: cfg.abc as AbcPolicy, warmupMs: cfg.warmupSeconds * 1000 }),
}
