/** EPA's PM NowCast: a weighted average of the last 12 hourly concentrations, weights falling faster when air changes fast. */
import { truncate } from './breakpoints.js'

/**
 * `hourly[0]` is the most recent complete hour, `hourly[11]` eleven hours before it; null marks a missing hour.
 * Method (EPA, "How the NowCast is calculated"): w = 1 - (max - min) / max over the valid hours, at least 0.5;
 * NowCast = sum(w^i * c_i) / sum(w^i) over the valid hours, i = hours ago. Valid only when at least 2 of the 3 most
 * recent hours are present; the result is truncated like the concentration the AQI takes (0.1 µg/m³ for PM2.5,
 * 1 µg/m³ for PM10). Returns null when the data does not allow a NowCast.
 */
export function nowcast(hourly: readonly (number | null)[], pollutant: 'pm25' | 'pm10'): number | null {
  const hours = hourly.slice(0, 12)
  let recent = 0
  for (let i = 0; i < 3; i++) if (isValid(hours[i])) recent++
  if (recent < 2) return null
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const c of hours) {
    if (!isValid(c)) continue
    if (c < min) min = c
    if (c > max) max = c
  }
  // All zero: no rate of change to scale; every hour weighs the same (w = 1).
  const w = max <= 0 ? 1 : Math.max(0.5, 1 - (max - min) / max)
  let num = 0
  let den = 0
  for (let i = 0; i < hours.length; i++) {
    const c = hours[i]
    if (!isValid(c)) continue
    const wi = w ** i
    num += wi * c
    den += wi
  }
  return truncate(num / den, pollutant === 'pm25' ? 1 : 0)
}

function isValid(c: number | null | undefined): c is number {
  return typeof c === 'number' && Number.isFinite(c) && c >= 0
}
