/** The SDS011 descriptor: a UART chip at 9600 8N1 with an active/passive (query) `mode`. */
import { readOneOf } from '../config-fields.js'
import type { UartSensorDescriptor } from '../descriptor.js'
import { readDuty, readWindowStats, warmupMsOf } from '../duty-config.js'
import { SDS011_DEFAULTS, Sds011 } from './sds011.js'

const MODES = ['active', 'passive'] as const

export const sds011Descriptor: UartSensorDescriptor = {
  types: ['sds011'],
  label: 'SDS011',
  bus: 'uart',
  baud: 9600,
  warmupSeconds: SDS011_DEFAULTS.warmupMs / 1000,
  settings: {
    /** active: a frame every second; passive: query mode. */
    mode: (v, field) => readOneOf(v, field, MODES, 'active'),
    /** Sleep between measuring windows (sensors/duty-config.ts): on by default when the interval allows. */
    duty: (v, field, sensor) => readDuty(v, field, sensor),
    /** min, max, median beside each window's trimmed mean. */
    windowStats: (v, field) => readWindowStats(v, field),
  },
  create: (uart, clock, cfg, health) =>
    new Sds011(uart, clock, {
      ...health,
      id: cfg.id,
      mode: cfg.mode === 'passive' ? 'passive' : 'active',
      warmupMs: warmupMsOf(cfg),
    }),
}
