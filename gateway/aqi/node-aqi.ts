/** A node's current air-quality index from its stored readings: hourly averages -> (optional correction) -> NowCast -> index. */
import type { ReadingRow } from '../store/types.js'
import { caqi } from './caqi.js'
import { eaqi } from './eaqi.js'
import { correctPm25Epa2021, EPA_2021_CORRECTION_LABEL } from './epa-correction.js'
import { nowcast } from './nowcast.js'
import { usAqi } from './us-epa.js'

export type AqiScheme = 'us-epa' | 'caqi' | 'eaqi'
export type PmCorrection = 'none' | 'epa-2021'

export interface AqiOptions {
  scheme: AqiScheme
  correction: PmCorrection
}

export const HOUR_MS = 3_600_000

/** What /api/nodes reports per node (null when the node has too little PM data). */
export interface NodeAqi {
  scheme: AqiScheme
  /** The overall index: the worst of the pollutants'. */
  value: number
  category: string
  /** The pollutant that sets `value`. */
  dominant: 'pm25' | 'pm10'
  /** Per pollutant: the averaged concentration used (NowCast for us-epa, last hour for caqi) and its index. */
  pollutants: Partial<Record<'pm25' | 'pm10', { concentration: number; index: number; category: string }>>
  /** The clock hour (ISO) of the most recent average used. */
  hour: string
  /** Set when PM2.5 was humidity-corrected; the dashboard shows it next to the value. */
  corrected: string | null
  beyond: boolean
}

/**
 * Builds per-hour means of each value key from rows (any sensor of the node; rows already averaged per step are
 * fine), for the 12 clock hours before `nowMs`'s hour: index 0 is the most recent complete hour.
 */
export function hourlyMeans(rows: readonly ReadingRow[], nowMs: number): Map<string, (number | null)[]> {
  const end = Math.floor(nowMs / HOUR_MS) * HOUR_MS
  const sums = new Map<string, { sum: number[]; n: number[] }>()
  for (const r of rows) {
    const t = Date.parse(r.time)
    const i = Math.floor((end - 1 - t) / HOUR_MS)
    if (!(i >= 0 && i < 12)) continue
    for (const [k, v] of Object.entries(r.values)) {
      if (!Number.isFinite(v)) continue
      let acc = sums.get(k)
      if (acc === undefined) {
        acc = { sum: new Array(12).fill(0), n: new Array(12).fill(0) }
        sums.set(k, acc)
      }
      acc.sum[i] = (acc.sum[i] as number) + v
      acc.n[i] = (acc.n[i] as number) + 1
    }
  }
  const out = new Map<string, (number | null)[]>()
  for (const [k, acc] of sums)
    out.set(
      k,
      acc.sum.map((s, i) => ((acc.n[i] as number) > 0 ? s / (acc.n[i] as number) : null)),
    )
  return out
}

/**
 * The node's index over its last 12 complete hours. us-epa: NowCast of PM2.5 and PM10, then the 2024 AQI. caqi and
 * eaqi: the last complete hour's mean (both are hourly indices; eaqi's value is its band, 1-6). With `epa-2021`, each hour's PM2.5 is recomputed from that
 * hour's mean CF=1 PM2.5 and mean RH; hours lacking either are missing, never silently left uncorrected.
 */
export function nodeAqi(rows: readonly ReadingRow[], nowMs: number, opts: AqiOptions): NodeAqi | null {
  const means = hourlyMeans(rows, nowMs)
  let pm25 = means.get('pm25') ?? null
  if (opts.correction === 'epa-2021') {
    const cf1 = means.get('pm25Cf1')
    const rh = means.get('humidity')
    pm25 =
      cf1 === undefined || rh === undefined
        ? null
        : cf1.map((c, i) => {
            const h = rh[i]
            return c === null || h === null || h === undefined ? null : correctPm25Epa2021(c, h)
          })
  }
  const series = { pm25, pm10: means.get('pm10') ?? null }
  const pollutants: NodeAqi['pollutants'] = {}
  let best: { p: 'pm25' | 'pm10'; index: number; category: string; beyond: boolean } | null = null
  for (const p of ['pm25', 'pm10'] as const) {
    const s = series[p]
    if (s === null) continue
    let r: { index: number; category: string; beyond: boolean; concentration: number } | null = null
    if (opts.scheme === 'us-epa') {
      const c = nowcast(s, p)
      const a = c === null ? null : usAqi(p, c)
      if (a !== null) r = { index: a.aqi, category: a.category, beyond: a.beyond, concentration: a.concentration }
    } else {
      // CAQI and the 2024 EAQI are hourly indices: the last complete hour's mean.
      const c = s[0]
      if (c !== null && c !== undefined) {
        if (opts.scheme === 'caqi') {
          const a = caqi(p, c)
          if (a !== null) r = { index: a.index, category: a.category, beyond: false, concentration: c }
        } else {
          const a = eaqi(p, c)
          if (a !== null) r = { index: a.level, category: a.category, beyond: false, concentration: c }
        }
      }
    }
    if (r === null) continue
    pollutants[p] = { concentration: r.concentration, index: r.index, category: r.category }
    if (best === null || r.index > best.index) best = { p, index: r.index, category: r.category, beyond: r.beyond }
  }
  if (best === null) return null
  const hourStart = Math.floor(nowMs / HOUR_MS) * HOUR_MS - HOUR_MS
  return {
    scheme: opts.scheme,
    value: best.index,
    category: best.category,
    dominant: best.p,
    pollutants,
    hour: new Date(hourStart).toISOString(),
    corrected: opts.correction === 'epa-2021' && pollutants.pm25 !== undefined ? EPA_2021_CORRECTION_LABEL : null,
    beyond: best.beyond,
  }
}
