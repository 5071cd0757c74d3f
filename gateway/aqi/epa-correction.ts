/** EPA's 2021 US-wide correction of PurpleAir-class (Plantower PMS5003) PM2.5, from CF=1 mass and the sensor's raw RH. */

/**
 * Barkjohn, Gantt & Clements (2021), AMT 14, 4617, extended for smoke as used on the AirNow Fire and Smoke Map:
 *   cf1 <= 343 µg/m³:  PM2.5 = 0.52 * cf1 - 0.086 * RH + 5.75
 *   cf1 >  343 µg/m³:  PM2.5 = 0.46 * cf1 + 3.93e-4 * cf1^2 + 2.97
 * `cf1` is the sensor's "CF=1" PM2.5 (our `pm25Cf1`), RH in percent (0-100) as the node measured it (the raw value
 * next to the particle sensor, not a corrected one). Fitted on 24-hour and hourly averages: apply it to averages.
 * The result is floored at 0 (the linear fit goes negative for clean, humid air). Null for non-finite inputs or RH
 * outside 0-100. Whatever shows the result must label it as corrected.
 */
export function correctPm25Epa2021(cf1: number, rhPercent: number): number | null {
  if (!Number.isFinite(cf1) || cf1 < 0 || !Number.isFinite(rhPercent) || rhPercent < 0 || rhPercent > 100) return null
  const v = cf1 <= 343 ? 0.52 * cf1 - 0.086 * rhPercent + 5.75 : 0.46 * cf1 + 3.93e-4 * cf1 * cf1 + 2.97
  return Math.max(0, v)
}

/** The label every display of a corrected value carries. */
export const EPA_2021_CORRECTION_LABEL = 'EPA 2021 humidity-corrected (Barkjohn et al.)'
