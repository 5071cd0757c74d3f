/** The common sensor-driver interface the device loop codes against: start/stop, sample into a reused object, health. */
import type { ReadingFields } from './readings.js'

/**
 * Expected hardware faults, returned as values (never thrown):
 * E_CHECKSUM bad checksum; E_LENGTH bad length field or short frame; E_HEADER wrong start bytes; E_TAIL wrong end byte;
 * E_TIMEOUT no valid frame for the driver's timeout; E_IO the bus failed (read error, device gone);
 * E_RANGE a frame that checks but is physically inconsistent (e.g. PM10 > 0 with no particles counted).
 */
export type SensorFault = 'E_CHECKSUM' | 'E_LENGTH' | 'E_HEADER' | 'E_TAIL' | 'E_TIMEOUT' | 'E_IO' | 'E_RANGE'

/** ok → degraded after a few consecutive faults → failed (then retried with exponential backoff). */
export type Health = 'ok' | 'degraded' | 'failed'

/** What the driver is doing now (`sleeping`: put to sleep between measuring windows by the device's duty cycle). */
export type DriverState = 'stopped' | 'warming' | 'running' | 'backoff' | 'sleeping'

/**
 * The outcome of one `sample()`:
 * - `fresh`: a new reading was written into `out` (only this driver's fields; the caller clears `out` first);
 * - `none`: no new reading since the previous sample, nothing wrong yet (the sensor reports slower than the loop);
 * - `warming`: started or woken recently, readings not yet trustworthy (PMS5003 30 s, MH-Z19B 3 min);
 * - `fault`: a fault since the previous sample (`status.lastFault`), nothing written;
 * - `backoff`: failed, waiting to retry (`status.retryAtMs`); `stopped`: not started.
 */
export type SampleResult = 'fresh' | 'none' | 'warming' | 'fault' | 'backoff' | 'stopped'

/** A driver's status: one object per driver, mutated in place (read it, copy what you publish). */
export interface SensorStatus {
  readonly id: string
  readonly model: string
  health: Health
  state: DriverState
  /** The most recent fault, or null if none since start. */
  lastFault: SensorFault | null
  /** Consecutive faults (reset by a good reading). */
  consecutiveFaults: number
  /** Totals since start: good frames/readings, faults. */
  frames: number
  faults: number
  /** Monotonic ms (TimerClock) of the last good reading, NaN if none; of the next retry when in backoff, NaN otherwise. */
  lastReadingMs: number
  retryAtMs: number
  /** A chip's own settings as applied, carried in summary status messages (MH-Z19B: `{ abc, abcSent }`); absent for most. */
  chip?: Record<string, string | number | boolean>
}

/**
 * Every driver implements this. Calls are cheap and synchronous; `sample()` allocates nothing, so the loop may call
 * it every tick. A driver owns its bus (Uart/Gpio/Iio) while started but does not close it: the caller does.
 */
export interface SensorDriver {
  readonly id: string
  readonly model: string
  readonly status: SensorStatus
  /** Wake the sensor, set its mode, begin warm-up. Idempotent. */
  start(): void
  /** Put the sensor to sleep where it can (fan/laser off) and stop listening. Idempotent. */
  stop(): void
  /** Write a new reading into `out` if there is one; see SampleResult. Never throws. */
  sample(out: ReadingFields): SampleResult
}

/**
 * A driver whose chip can sleep between measuring windows with its fan and laser off (PMS5003, SDS011), so the device
 * loop can duty-cycle it. Unlike stop()/start(), sleep() keeps listening and keeps the health counters across cycles.
 */
export interface SleepingDriver extends SensorDriver {
  /** Send the chip's sleep command; sample() returns 'stopped' until wake(). Idempotent. */
  sleep(): void
  /** Send the wake command and begin the warm-up again (readings are discarded until it ends). Idempotent. */
  wake(): void
}

/** Whether a driver can be put to sleep between windows. */
export function canSleep(d: SensorDriver): d is SleepingDriver {
  const s = d as Partial<SleepingDriver>
  return typeof s.sleep === 'function' && typeof s.wake === 'function'
}
