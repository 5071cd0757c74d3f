/** The BME280/BMP280/BME680 descriptor: a Linux IIO device; the kernel's driver compensates, the chip comes from its `name`. */
import type { IioSensorDescriptor } from '../descriptor.js'
import { BME280_DEFAULTS, Bme280 } from './bme280.js'

export const bme280Descriptor: IioSensorDescriptor = {
  types: ['bme280', 'bme680'],
  label: 'BME280/BME680',
  bus: 'iio',
  warmupSeconds: BME280_DEFAULTS.warmupMs / 1000,
  settings: {},
  // Polled once per interval: each read makes the kernel run a forced measurement (bme280.ts).
  create: (iio, clock, cfg, health) =>
    new Bme280(iio, clock, { ...health, id: cfg.id, pollMs: cfg.intervalSeconds * 1000, warmupMs: cfg.warmupSeconds * 1000 }),
}
