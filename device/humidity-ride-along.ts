/** The node's latest BME280/680 humidity and temperature, copied into its PM readings for EPA's humidity correction at the gateway. */
import type { ReadingFields } from '../sensors/readings.js'

/*
 * Why: low-cost PM sensors (Plantower, Nova) count swollen droplets as particles in humid air, and EPA's US-wide
 * correction of PurpleAir-class PM2.5 (Barkjohn, Gantt & Clements 2021, AMT 14, 4617; gateway/aqi/epa-correction.ts)
 * needs the raw relative humidity measured next to the particle sensor. A PM reading that carries the node's own RH
 * and temperature can be corrected on its own, whatever else the gateway stores.
 *
 * Which value: the latest fresh BME280/BME680 reading with a humidity (a BMP280 has none) from any sensor of this
 * node, if it was taken at most two of that sensor's intervals ago (one missed reading is tolerated; an older value
 * would pair today's particles with a stale humidity). The values are the chip's own (Bosch-compensated, as the
 * kernel IIO driver reports them), not corrected for the enclosure's warmth: the correction was fitted on such raw
 * values. They ride under the same keys the BME publishes, `humidity` and `temperature`, which is what the gateway's
 * correction reads (gateway/aqi/node-aqi.ts). A PM chip that measured its own would keep its own (never overwritten).
 *
 * Allocation: numbers in fields, nothing per reading (device/loop.ts's budget).
 */

/** How many of the BME's own intervals its reading stays fresh enough to ride along. */
export const RIDE_ALONG_MAX_INTERVALS = 2

export class HumidityRideAlong {
  private humidity = Number.NaN
  private temperature = Number.NaN
  /** Monotonic ms until which the reading held may ride along. */
  private untilMs = Number.NEGATIVE_INFINITY

  /**
   * One fresh reading of any sensor, before it is published: a BME280/680's humidity and temperature are kept; a PM
   * reading (PM2.5 or PM10 mass) without its own humidity gets the kept ones, if fresh enough. Returns true if it did.
   */
  take(out: ReadingFields, model: string, intervalMs: number, nowMs: number): boolean {
    if ((model === 'bme280' || model === 'bme680') && Number.isFinite(out.humidity)) {
      this.humidity = out.humidity
      this.temperature = out.temperature
      this.untilMs = nowMs + RIDE_ALONG_MAX_INTERVALS * intervalMs
      return false
    }
    if (Number.isNaN(out.pm25) && Number.isNaN(out.pm10)) return false
    if (!Number.isNaN(out.humidity) || nowMs > this.untilMs) return false
    out.humidity = this.humidity
    // A BME680's temperature is always there with its humidity; NaN (not measured) just stays out of the reading.
    if (Number.isNaN(out.temperature)) out.temperature = this.temperature
    return true
  }

  /**
   * The same for a duty-cycled PM sensor's window reading (device/duty.ts), whose values are already the window's
   * trimmed means: the kept humidity and temperature join them if fresh. Returns true if they did.
   */
  attach(values: Partial<Record<'pm25' | 'pm10' | 'humidity' | 'temperature', number>>, nowMs: number): boolean {
    if (values.pm25 === undefined && values.pm10 === undefined) return false
    if (values.humidity !== undefined || nowMs > this.untilMs || Number.isNaN(this.humidity)) return false
    values.humidity = this.humidity
    if (values.temperature === undefined && !Number.isNaN(this.temperature)) values.temperature = this.temperature
    return true
  }
}
