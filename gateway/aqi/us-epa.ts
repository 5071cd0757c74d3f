/** US EPA Air Quality Index for PM2.5 and PM10 with the breakpoints in force from 6 May 2024 (40 CFR 58 App. G, Table 2). */
import { interpolate, type Segment, truncate } from './breakpoints.js'

/** The six EPA categories (2024: one Hazardous category for 301-500). */
export type UsAqiCategory = 'good' | 'moderate' | 'unhealthy-sensitive' | 'unhealthy' | 'very-unhealthy' | 'hazardous'

const seg = (cLo: number, cHi: number, iLo: number, iHi: number, category: UsAqiCategory): Segment => ({ cLo, cHi, iLo, iHi, category })

/**
 * PM2.5 24-hour, µg/m³: the 2024 rule lowered the Good/Moderate breakpoint to 9.0 and merged the two Hazardous
 * rows into 225.5-325.4 -> 301-500 (EPA-454/B-24-002, Table 6).
 */
export const PM25_2024: readonly Segment[] = [
  seg(0.0, 9.0, 0, 50, 'good'),
  seg(9.1, 35.4, 51, 100, 'moderate'),
  seg(35.5, 55.4, 101, 150, 'unhealthy-sensitive'),
  seg(55.5, 125.4, 151, 200, 'unhealthy'),
  seg(125.5, 225.4, 201, 300, 'very-unhealthy'),
  seg(225.5, 325.4, 301, 500, 'hazardous'),
]

/** PM10 24-hour, µg/m³ (unchanged by the 2024 rule except the merged Hazardous row 425-604 -> 301-500). */
export const PM10_2024: readonly Segment[] = [
  seg(0, 54, 0, 50, 'good'),
  seg(55, 154, 51, 100, 'moderate'),
  seg(155, 254, 101, 150, 'unhealthy-sensitive'),
  seg(255, 354, 151, 200, 'unhealthy'),
  seg(355, 424, 201, 300, 'very-unhealthy'),
  seg(425, 604, 301, 500, 'hazardous'),
]

export type UsPollutant = 'pm25' | 'pm10'

export interface UsAqi {
  aqi: number
  category: UsAqiCategory
  /** The concentration the index was computed from, after truncation. */
  concentration: number
  /** True above the table's top (EPA: "Beyond the AQI"); `aqi` then continues the top segment's line. */
  beyond: boolean
}

/**
 * AQI of one concentration: truncated to 0.1 µg/m³ (PM2.5) or 1 µg/m³ (PM10), interpolated, rounded to the nearest
 * integer (EPA AQI technical assistance document, "Calculating the AQI"). Null for a negative or non-finite input.
 */
export function usAqi(pollutant: UsPollutant, concentration: number): UsAqi | null {
  if (!Number.isFinite(concentration) || concentration < 0) return null
  const c = pollutant === 'pm25' ? truncate(concentration, 1) : truncate(concentration, 0)
  const r = interpolate(pollutant === 'pm25' ? PM25_2024 : PM10_2024, c)
  return { aqi: Math.round(r.index), category: r.category as UsAqiCategory, concentration: c, beyond: r.beyond }
}
