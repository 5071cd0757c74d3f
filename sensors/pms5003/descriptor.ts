/** The PMS5003/PMS7003 descriptor: a UART chip at 9600 8N1 with an active/passive `mode`. */
import { readOneOf } from '../config-fields.js'
import type { UartSensorDescriptor } from '../descriptor.js'
import { readDuty, readWindowStats, warmupMsOf } from '../duty-config.js'
import { PMS_DEFAULTS, Pms5003 } from './pms5003.js'

const MODES = ['active', 'passive'] as const

export const pms5003Descriptor: UartSensorDescriptor = {
  types: ['pms5003', 'pms7003'],
  label: 'PMS5003/PMS7003',
  bus: 'uart',
  baud: 9600,
  warmupSeconds: PMS_DEFAULTS.warmupMs / 1000,
  settings: {
    /** active: the chip streams; passive: queried each interval. */
    mode: (v, field) => readOneOf(v, field, MODES, 'active'),
    /** Sleep between measuring windows (sensors/duty-config.ts): on by default when the interval allows. */
    duty: (v, field, sensor) => readDuty(v, field, sensor),
    /** min, max, median beside each window's trimmed mean. */
    windowStats: (v, field) => readWindowStats(v, field),
  },
  create: (uart, clock, cfg, health) =>
    new Pms5003(uart, clock, {
      ...health,
      id: cfg.id,
      model: cfg.type === 'pms7003' ? 'pms7003' : 'pms5003',
      mode: cfg.mode === 'passive' ? 'passive' : 'active',
      warmupMs: warmupMsOf(cfg),
    }),
}
