/** The European Air Quality Index as revised in 2024 (EEA, ETC HE Report 2024/17, Table 5.2): six bands for PM2.5 and PM10. */

export type EaqiCategory = 'good' | 'fair' | 'moderate' | 'poor' | 'very-poor' | 'extremely-poor'

const CATEGORIES: readonly EaqiCategory[] = ['good', 'fair', 'moderate', 'poor', 'very-poor', 'extremely-poor']

/**
 * Upper bounds of bands 1-5 in µg/m³ for 1-hour concentrations; above the fifth is band 6. The revision aligned
 * the bands with the WHO 2021 guidelines (PM2.5 "good" up to 5, was 10 in the 2017 index).
 */
export const EAQI_2024_UPPER: Readonly<Record<'pm25' | 'pm10', readonly number[]>> = {
  pm25: [5, 15, 50, 90, 140],
  pm10: [15, 45, 120, 195, 270],
}

export interface Eaqi {
  /** 1 (good) to 6 (extremely poor): the EAQI is a banded index, not a continuous one. */
  level: number
  category: EaqiCategory
}

/**
 * The band of a concentration. The table's rows read "0-5, 5-15, ..."; a value equal to a bound is taken into the
 * lower band (our reading: the bound is the band's upper limit). Null for a negative or non-finite input.
 */
export function eaqi(pollutant: 'pm25' | 'pm10', concentration: number): Eaqi | null {
  if (!Number.isFinite(concentration) || concentration < 0) return null
  const upper = EAQI_2024_UPPER[pollutant]
  let i = 0
  while (i < upper.length && concentration > (upper[i] as number)) i++
  return { level: i + 1, category: CATEGORIES[i] as EaqiCategory }
}
