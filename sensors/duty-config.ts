/** The `duty` and `windowStats` settings of the chips that can sleep (PMS5003/7003, SDS011): when to sleep, what a window reports. */
import { configError, isObject, readNumber } from './config-fields.js'
import type { SensorCommon, SensorConfig } from './descriptor.js'

/**
 * A duty cycle, the airRohr (sensor.community) and ESPHome practice: wake, discard readings for `warmupSeconds`
 * (fan spin-up), measure for `windowSeconds` (one sample a second), sleep until the next interval. The laser and
 * fan are off while the chip sleeps, which is most of its life on a 2-5 minute interval.
 */
export type DutySetting = {
  readonly warmupSeconds: number
  readonly windowSeconds: number
}

/** The measuring window when the config gives none: 10 one-second samples. */
export const DEFAULT_WINDOW_SECONDS = 10

/** Statistics a window reading may carry besides the trimmed mean and the sample count. */
export const WINDOW_STATS = ['min', 'max', 'median'] as const
export type WindowStat = (typeof WINDOW_STATS)[number]

const DUTY_FIELDS: ReadonlySet<string> = new Set(['warmupSeconds', 'windowSeconds'])

/**
 * `duty`: absent (on when intervalSeconds >= 2 x (warm-up + window), so the chip sleeps at least half the time),
 * `false` (always on), `true` (on, defaults) or `{ warmupSeconds?, windowSeconds? }` (on). The warm-up defaults to
 * the sensor's `warmupSeconds`. An explicit duty cycle must fit in the interval.
 */
export function readDuty(v: unknown, field: string, sensor: SensorCommon): DutySetting | false {
  if (v === false) return false
  const dflt: DutySetting = { warmupSeconds: sensor.warmupSeconds, windowSeconds: DEFAULT_WINDOW_SECONDS }
  if (v === undefined) return sensor.intervalSeconds >= 2 * (dflt.warmupSeconds + dflt.windowSeconds) ? dflt : false
  let duty: DutySetting
  if (v === true) duty = dflt
  else if (isObject(v)) {
    for (const k of Object.keys(v))
      if (!DUTY_FIELDS.has(k)) throw configError(`${field}.${k}`, "unknown field (duty takes 'warmupSeconds' and 'windowSeconds')")
    duty = {
      warmupSeconds: readNumber(v.warmupSeconds, `${field}.warmupSeconds`, 0, 3600, dflt.warmupSeconds),
      windowSeconds: readNumber(v.windowSeconds, `${field}.windowSeconds`, 1, 3600, dflt.windowSeconds),
    }
  } else throw configError(field, `must be false, true or { "warmupSeconds": N, "windowSeconds": N }, not ${JSON.stringify(v)}`)
  if (duty.warmupSeconds + duty.windowSeconds > sensor.intervalSeconds)
    throw configError(
      field,
      `warm-up ${duty.warmupSeconds} s + window ${duty.windowSeconds} s does not fit in intervalSeconds (${sensor.intervalSeconds})`,
    )
  return duty
}

/** `windowStats`: which of min, max, median a window reading carries besides its trimmed mean (default none). */
export function readWindowStats(v: unknown, field: string): readonly WindowStat[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) throw configError(field, `must be an array of ${WINDOW_STATS.map((s) => `'${s}'`).join(', ')}`)
  const out: WindowStat[] = []
  for (const [i, s] of v.entries()) {
    const stat = WINDOW_STATS.find((w) => w === s)
    if (stat === undefined)
      throw configError(`${field}[${i}]`, `must be ${WINDOW_STATS.map((w) => `'${w}'`).join(', ')}, not ${JSON.stringify(s)}`)
    if (!out.includes(stat)) out.push(stat)
  }
  return out
}

/** The parsed duty cycle of a sensor config, or undefined when it runs continuously (or its chip cannot sleep). */
export function dutyOf(cfg: SensorConfig): DutySetting | undefined {
  const d = cfg.duty
  return isObject(d) && typeof d.warmupSeconds === 'number' && typeof d.windowSeconds === 'number'
    ? { warmupSeconds: d.warmupSeconds, windowSeconds: d.windowSeconds }
    : undefined
}

/** The parsed window statistics of a sensor config (none when absent). */
export function windowStatsOf(cfg: SensorConfig): readonly WindowStat[] {
  const w = cfg.windowStats
  return Array.isArray(w) ? w.filter((s): s is WindowStat => WINDOW_STATS.includes(s as WindowStat)) : []
}

/** The warm-up a driver uses after each wake: the duty cycle's when it has one. */
export const warmupMsOf = (cfg: SensorConfig): number => (dutyOf(cfg)?.warmupSeconds ?? cfg.warmupSeconds) * 1000
