/** The reused readings object every driver writes into: one numeric field per quantity, NaN when not measured. */

/**
 * Fixed shape (all fields are numbers, initialised in the constructor) so V8 keeps one hidden class and the loop
 * can reuse one instance per sensor forever: `clear()` then `driver.sample(out)`, no allocation per tick.
 * Units are in the field docs; the names are the keys the loop publishes.
 */
export class Readings {
  /** PM1.0 / PM2.5 / PM10 mass, µg/m³, "atmospheric environment" (PMS) or the sensor's only value (SDS011). */
  pm1 = Number.NaN
  pm25 = Number.NaN
  pm10 = Number.NaN
  /** PM mass, µg/m³, Plantower "CF=1 standard particle" (factory environments). */
  pm1Cf1 = Number.NaN
  pm25Cf1 = Number.NaN
  pm10Cf1 = Number.NaN
  /** Particle counts per 0.1 L above 0.3, 0.5, 1.0, 2.5, 5.0 and 10 µm (PMS5003/7003). */
  n03 = Number.NaN
  n05 = Number.NaN
  n1 = Number.NaN
  n25 = Number.NaN
  n5 = Number.NaN
  n10 = Number.NaN
  /** CO₂, ppm (MH-Z19B). */
  co2 = Number.NaN
  /** Air temperature °C, relative humidity %, pressure hPa (BME280/680). */
  temperature = Number.NaN
  humidity = Number.NaN
  pressure = Number.NaN
  /** BME680 gas-sensor resistance, ohms (raw, not an IAQ index). */
  gasResistance = Number.NaN
  /** PPD42NS: low-pulse occupancy over the window, %, and the curve's concentration, particles per 0.01 ft³. */
  lowRatio = Number.NaN
  particles = Number.NaN

  /** Reset every field to NaN (not measured). */
  clear(): void {
    this.pm1 = this.pm25 = this.pm10 = this.pm1Cf1 = this.pm25Cf1 = this.pm10Cf1 = Number.NaN
    this.n03 = this.n05 = this.n1 = this.n25 = this.n5 = this.n10 = Number.NaN
    this.co2 = this.temperature = this.humidity = this.pressure = this.gasResistance = Number.NaN
    this.lowRatio = this.particles = Number.NaN
  }
}

/** The names of every field, in publication order (iterate this instead of Object.keys: no array per tick). */
export const READING_KEYS = [
  'pm1',
  'pm25',
  'pm10',
  'pm1Cf1',
  'pm25Cf1',
  'pm10Cf1',
  'n03',
  'n05',
  'n1',
  'n25',
  'n5',
  'n10',
  'co2',
  'temperature',
  'humidity',
  'pressure',
  'gasResistance',
  'lowRatio',
  'particles',
] as const

export type ReadingKey = (typeof READING_KEYS)[number]

/** The `ReadingFields` the driver interface speaks of (an instance of `Readings`, or anything with the same fields). */
export type ReadingFields = Record<ReadingKey, number>
