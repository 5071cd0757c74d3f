/** The hardware abstraction drivers are written against: Gpio, Uart, Iio and a monotonic TimerClock (a few methods each). */

/** A logic level as read from a pin. */
export type Level = 0 | 1

/** Which edges a watched pin reports. */
export type EdgeMode = 'rising' | 'falling' | 'both'

/**
 * Called once per edge with the level after the edge and a monotonic timestamp in microseconds.
 * Microseconds in a double stay exact for 285 years of uptime; kernel timestamps (ns) are divided by 1000.
 * One listener is created by the driver at construction, never per edge.
 */
export type EdgeListener = (level: Level, timeUs: number) => void

/** A GPIO input pin. `device/hal-linux` implements it on sysfs (onoff); `sensors/fakes` on a scripted level train. */
export interface Gpio {
  /** The current level. */
  read(): Level
  /** Start reporting edges (replaces any previous listener). */
  watch(listener: EdgeListener): void
  /** Stop reporting edges. */
  unwatch(): void
  /** Release the pin (unexport). Idempotent. */
  close(): void
}

/** Called with each chunk of bytes read from a serial line. The chunk is only valid during the call. */
export type DataListener = (chunk: Uint8Array) => void
/** Called when the line fails (device unplugged, read error); the driver counts it as an E_IO fault. */
export type ErrorListener = (err: Error) => void

/** A serial line as a byte stream (already opened at the sensor's speed, 8N1, raw). */
export interface Uart {
  /** Set the data listener (null removes it). One listener at a time: a UART belongs to one driver. */
  onData(listener: DataListener | null): void
  /** Set the error listener (null removes it). */
  onError(listener: ErrorListener | null): void
  /** Queue bytes for transmission (commands are a few bytes; no back-pressure needed). */
  write(bytes: Uint8Array): void
  /** Close the line. Idempotent. */
  close(): void
}

/**
 * A Linux IIO device (e.g. the kernel's bmp280/bme680 drivers): named sysfs attributes read as text.
 * Reads may take milliseconds (the kernel starts a forced measurement), so they are asynchronous.
 */
export interface Iio {
  /** The device's `name` attribute (e.g. `bme280`). */
  readonly name: string
  /** Read one attribute, e.g. `in_temp_input`; rejects with the errno error (EIO/EBUSY when the chip is absent). */
  readAttr(attr: string): Promise<string>
}

/** An opaque timer handle. */
export type TimerHandle = unknown

/**
 * Monotonic time and timers, injectable so tests run on fake time. Not `src/clock.ts`'s `Clock` (wall time with
 * `synced()`): warm-up, windows and backoff must not jump when NTP steps the wall clock.
 */
export interface TimerClock {
  /** Monotonic milliseconds (arbitrary origin). */
  nowMs(): number
  setTimer(fn: () => void, ms: number): TimerHandle
  clearTimer(handle: TimerHandle): void
  /**
   * Optional: arms a timer again, fired or pending, with the callback and delay it was set with, from now (Node's
   * `timeout.refresh()`). A loop ticking at one steady period reuses one timer instead of allocating one per tick.
   */
  rearm?(handle: TimerHandle): void
}

/** The process's monotonic clock (performance.now) and Node timers, unref'd so a driver never keeps the process alive. */
export const systemTimerClock: TimerClock = {
  nowMs: () => performance.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref()
    return t
  },
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  rearm: (h) => {
    ;(h as ReturnType<typeof setTimeout>).refresh()
  },
}
