/** The Common Air Quality Index (CAQI, CITEAIR hourly grid) for PM2.5 and PM10: 0-100+ in five classes. */
import { interpolate, type Segment } from './breakpoints.js'

export type CaqiCategory = 'very-low' | 'low' | 'medium' | 'high' | 'very-high'

const seg = (cLo: number, cHi: number, iLo: number, iHi: number, category: CaqiCategory): Segment => ({ cLo, cHi, iLo, iHi, category })

/** Hourly PM2.5, µg/m³: 0-15-30-55-110 -> 0-25-50-75-100; above 110 is "very high". */
export const CAQI_PM25: readonly Segment[] = [
  seg(0, 15, 0, 25, 'very-low'),
  seg(15, 30, 25, 50, 'low'),
  seg(30, 55, 50, 75, 'medium'),
  seg(55, 110, 75, 100, 'high'),
]

/** Hourly PM10, µg/m³: 0-25-50-90-180 -> 0-25-50-75-100; above 180 is "very high". */
export const CAQI_PM10: readonly Segment[] = [
  seg(0, 25, 0, 25, 'very-low'),
  seg(25, 50, 25, 50, 'low'),
  seg(50, 90, 50, 75, 'medium'),
  seg(90, 180, 75, 100, 'high'),
]

export interface Caqi {
  index: number
  category: CaqiCategory
}

/**
 * CAQI sub-index of an hourly concentration, rounded to an integer. The grid is continuous (each class starts where
 * the last ends), so a value on a boundary takes the lower class, as the grid's "0-15, 15-30" rows read. Above the
 * grid the index keeps the top row's slope and the class is "very high". Null for a negative or non-finite input.
 */
export function caqi(pollutant: 'pm25' | 'pm10', concentration: number): Caqi | null {
  if (!Number.isFinite(concentration) || concentration < 0) return null
  const r = interpolate(pollutant === 'pm25' ? CAQI_PM25 : CAQI_PM10, concentration)
  return { index: Math.round(r.index), category: r.beyond ? 'very-high' : (r.category as CaqiCategory) }
}
