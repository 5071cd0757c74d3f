/** Signs of life in the journal: one line every 10 minutes with the counters an operator asks for first. */
import type { TimerClock, TimerHandle } from '../sensors/hal.js'
import type { Logger } from '../src/log.js'

/** Ten minutes: often enough to see a node is alive, rare enough for journald's rate limits (STYLE). */
export const JOURNAL_INTERVAL_MS = 600_000

export interface JournalOptions {
  /** Injectable timers (sensors/fakes/fake-clock.ts in tests). */
  readonly timers: TimerClock
  readonly log: Logger
  /** The counters: readings, sealed, acknowledged, outbox depth (device/start.ts `DeviceStats`). */
  readonly stats: () => object
  readonly everyMs?: number
}

/** Logs `alive` with the counters every `everyMs` until stop(). */
export function startJournal(opts: JournalOptions): { stop(): void } {
  const every = opts.everyMs ?? JOURNAL_INTERVAL_MS
  let timer: TimerHandle | undefined
  let stopped = false
  const line = (): void => {
    timer = undefined
    if (stopped) return
    opts.log.info('alive', { ...opts.stats() })
    timer = opts.timers.setTimer(line, every)
  }
  timer = opts.timers.setTimer(line, every)
  return {
    stop: () => {
      stopped = true
      if (timer !== undefined) opts.timers.clearTimer(timer)
      timer = undefined
    },
  }
}
