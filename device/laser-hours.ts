/** Laser-on hours of the PM sensors, persisted under DANEEL_STATE (atomic, at most every few minutes) and reported with the rated life left. */
import { readFileSync } from 'node:fs'
import type { TimerClock } from '../sensors/hal.js'
import { writeFileAtomic } from '../src/fsutil.js'
import type { Logger } from '../src/log.js'

/**
 * Rated laser life, in hours of operation:
 * - SDS011: "service life up to 8000 hours" (Nova Fitness SDS011 datasheet v1.3, technical parameters), under a
 *   year if it runs all the time;
 * - PMS5003/PMS7003: "MTTF >= 3 years" (Plantower PMS5003 series data manual v2.3, Technical Index; the PMS7003
 *   manual gives the same), taken as 3 x 8760 h of operation.
 */
export const RATED_LASER_HOURS: Readonly<Record<string, number>> = { sds011: 8000, pms5003: 26_280, pms7003: 26_280 }

/** Persist at most this often (an SD card wears with every rewrite); a crash forgets at most this much laser time. */
export const LASER_SAVE_EVERY_MS = 5 * 60_000

/** The file's name under DANEEL_STATE. */
export const LASER_HOURS_FILE = 'laser-hours.json'

/** One sensor's entry as reported in status messages. */
export interface LaserReport {
  sensor: string
  model: string
  hours: number
  ratedHours: number
  /** Rated hours minus the hours used (never below 0). */
  remainingHours: number
}

interface Entry {
  model: string
  /** Laser-on milliseconds, closed intervals only. */
  ms: number
  /** Monotonic time it was switched on, NaN while off. */
  onSinceMs: number
}

export interface LaserHoursOptions {
  /** The file (DANEEL_STATE/laser-hours.json); undefined: counted but never persisted. */
  readonly path?: string | undefined
  readonly timers: TimerClock
  readonly log: Logger
  readonly saveEveryMs?: number
}

const round2 = (x: number): number => Math.round(x * 100) / 100

/**
 * Counts, per sensor id, the time its laser is on: from wake (or start) to sleep (or stop). The file holds
 * `{"version":1,"sensors":{"pm":{"model":"sds011","hours":12.34}}}`; an entry whose model differs from the configured
 * one is a replaced sensor and starts from zero (logged).
 */
export class LaserHours {
  private readonly entries = new Map<string, Entry>()
  private readonly saved = new Map<string, { model: string; hours: number }>()
  private readonly opts: LaserHoursOptions
  private readonly saveEveryMs: number
  private lastSaveMs: number
  private dirty = false
  private lastError = ''

  constructor(opts: LaserHoursOptions) {
    this.opts = opts
    this.saveEveryMs = opts.saveEveryMs ?? LASER_SAVE_EVERY_MS
    this.lastSaveMs = opts.timers.nowMs()
    if (opts.path !== undefined) this.load(opts.path)
  }

  /** Whether a model has a laser we count (the PM sensors). */
  static counts(model: string): boolean {
    return RATED_LASER_HOURS[model] !== undefined
  }

  private load(path: string): void {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.opts.log.warn('cannot read the laser hours; counting from zero', { path, error: (err as Error).message })
      return
    }
    try {
      const doc = JSON.parse(text) as { sensors?: Record<string, { model?: unknown; hours?: unknown }> }
      for (const [id, e] of Object.entries(doc.sensors ?? {}))
        if (typeof e.model === 'string' && typeof e.hours === 'number' && Number.isFinite(e.hours) && e.hours >= 0)
          this.saved.set(id, { model: e.model, hours: e.hours })
    } catch (err) {
      this.opts.log.warn('the laser hours file is not valid JSON; counting from zero', { path, error: (err as Error).message })
    }
  }

  private entry(id: string, model: string): Entry {
    let e = this.entries.get(id)
    if (e === undefined || e.model !== model) {
      const prior = this.saved.get(id)
      let ms = 0
      if (prior !== undefined && prior.model === model) ms = prior.hours * 3_600_000
      else if (prior !== undefined)
        this.opts.log.info(`sensor ${id} is now a ${model} (was a ${prior.model}): its laser hours start from zero`)
      e = { model, ms, onSinceMs: Number.NaN }
      this.entries.set(id, e)
    }
    return e
  }

  /** The laser of sensor `id` is switched on (wake, start). */
  on(id: string, model: string, nowMs: number): void {
    const e = this.entry(id, model)
    if (Number.isNaN(e.onSinceMs)) e.onSinceMs = nowMs
  }

  /** Switched off (sleep, stop): the interval is added. */
  off(id: string, nowMs: number): void {
    const e = this.entries.get(id)
    if (e === undefined || Number.isNaN(e.onSinceMs)) return
    e.ms += Math.max(0, nowMs - e.onSinceMs)
    e.onSinceMs = Number.NaN
    this.dirty = true
  }

  /** Laser-on hours of sensor `id` so far (the running interval included). */
  hours(id: string, nowMs: number): number {
    const e = this.entries.get(id)
    if (e === undefined) return 0
    return (e.ms + (Number.isNaN(e.onSinceMs) ? 0 : Math.max(0, nowMs - e.onSinceMs))) / 3_600_000
  }

  /** Every counted sensor, for the status message. */
  report(nowMs: number): LaserReport[] {
    const out: LaserReport[] = []
    for (const [sensor, e] of this.entries) {
      const rated = RATED_LASER_HOURS[e.model] ?? 0
      const hours = this.hours(sensor, nowMs)
      out.push({ sensor, model: e.model, hours: round2(hours), ratedHours: rated, remainingHours: round2(Math.max(0, rated - hours)) })
    }
    return out
  }

  /** Persists if something changed and the last write is at least saveEveryMs old (called from the loop's ticks). */
  maybeSave(nowMs: number): void {
    let running = false
    for (const e of this.entries.values()) if (!Number.isNaN(e.onSinceMs)) running = true
    if ((this.dirty || running) && nowMs - this.lastSaveMs >= this.saveEveryMs) this.save(nowMs)
  }

  /** Writes the file now (atomically; running intervals counted up to now). A failure is logged once, never thrown. */
  save(nowMs: number): void {
    this.lastSaveMs = nowMs
    const path = this.opts.path
    if (path === undefined) return
    const sensors: Record<string, { model: string; hours: number }> = {}
    for (const [id, s] of this.saved) sensors[id] = s // sensors not configured now keep their hours
    for (const [id, e] of this.entries) sensors[id] = { model: e.model, hours: Math.round(this.hours(id, nowMs) * 1e6) / 1e6 }
    try {
      writeFileAtomic(path, `${JSON.stringify({ version: 1, sensors })}\n`)
      this.dirty = false
      this.lastError = ''
    } catch (err) {
      const why = (err as Error).message
      if (why !== this.lastError) this.opts.log.warn('cannot persist the laser hours', { path, error: why })
      this.lastError = why
    }
  }
}
