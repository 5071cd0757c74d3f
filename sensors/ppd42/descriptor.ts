/** The PPD42NS descriptor: a GPIO input pin, with a low-pulse-occupancy `windowSeconds` within the sensor's interval. */
import { configError, readNumber } from '../config-fields.js'
import type { GpioSensorDescriptor } from '../descriptor.js'
import { PPD42NS_DEFAULTS, Ppd42ns } from './ppd42ns.js'

const DEFAULT_WINDOW_SECONDS = PPD42NS_DEFAULTS.windowMs / 1000

export const ppd42nsDescriptor: GpioSensorDescriptor = {
  types: ['ppd42ns'],
  label: 'PPD42NS',
  bus: 'gpio',
  warmupSeconds: PPD42NS_DEFAULTS.warmupMs / 1000,
  settings: {
    /** One reading per window, so a window longer than the interval would leave intervals without one. */
    windowSeconds: (v, field, sensor) => {
      const dflt = Math.max(1, Math.min(DEFAULT_WINDOW_SECONDS, sensor.intervalSeconds))
      const w = readNumber(v, field, 1, 600, dflt)
      if (w > sensor.intervalSeconds) throw configError(field, `must not exceed intervalSeconds (${sensor.intervalSeconds})`)
      return w
    },
  },
  create: (gpio, clock, cfg, health) =>
    new Ppd42ns(gpio, clock, {
      ...health,
      id: cfg.id,
      windowMs: (typeof cfg.windowSeconds === 'number' ? cfg.windowSeconds : DEFAULT_WINDOW_SECONDS) * 1000,
      warmupMs: cfg.warmupSeconds * 1000,
    }),
}
