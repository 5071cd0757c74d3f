/** Jittered exponential backoff for reconnects ("full jitter"), with an injectable timer and random source. */

/*
 * Why full jitter: after a broker restart every device of a fleet reconnects at once (a reconnect storm,
 * AMRC-FactoryPlus/amrc-connectivity-stack#167). Drawing each delay uniformly from [0, min(cap, base * 2^n)]
 * spreads them out; a floor (`minMs`) keeps a device from spinning when the broker refuses it at once.
 * MQTT.js's own reconnectPeriod is a fixed setInterval with no backoff (mqttjs/MQTT.js#561), so it stays 0.
 */
export interface BackoffOptions {
  /** First ceiling in ms (default 500). */
  baseMs?: number
  /** Largest ceiling in ms (default 60 s). */
  capMs?: number
  /** Smallest delay in ms (default 100). */
  minMs?: number
  /** Uniform in [0, 1) (default Math.random; tests pass a fixed sequence). */
  random?: () => number
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
}

export class Backoff {
  readonly #base: number
  readonly #cap: number
  readonly #min: number
  readonly #random: () => number
  #attempt = 0

  constructor(opts: BackoffOptions = {}) {
    this.#base = opts.baseMs ?? 500
    this.#cap = opts.capMs ?? 60_000
    this.#min = opts.minMs ?? 100
    this.#random = opts.random ?? Math.random
    if (!(this.#base > 0 && this.#cap >= this.#base && this.#min >= 0 && this.#min <= this.#cap)) {
      throw new RangeError('backoff needs 0 < baseMs <= capMs and 0 <= minMs <= capMs')
    }
  }

  /** Failures since the last reset. */
  get attempt(): number {
    return this.#attempt
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    // 2^attempt overflows to Infinity past 1023, which min() clamps; stop counting well before that.
    const ceiling = Math.min(this.#cap, this.#base * 2 ** Math.min(this.#attempt, 30))
    this.#attempt++
    return Math.max(this.#min, Math.floor(this.#random() * ceiling))
  }

  /** Call on success (CONNACK). */
  reset(): void {
    this.#attempt = 0
  }
}

/** Schedules `fn` after the next backoff delay; returns a cancel function. */
export function scheduleRetry(backoff: Backoff, fn: () => void, timers: Timers = realTimers): () => void {
  const handle = timers.setTimeout(fn, backoff.next())
  return () => timers.clearTimeout(handle)
}
