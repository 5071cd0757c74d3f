/** How many messages a receiver opens at once: from the measured cost of an open, not a constant. */

/*
 * The rule: concurrency = floor(TURN_BUDGET_MS / mean open time), within [MIN_OPENS, MAX_OPENS].
 * - With a cached sender key an open is synchronous (src/message/open.ts `openNow`), so the opens a receiver
 *   starts back to back run in one event-loop turn; nothing else (the MQTT socket, PUBACKs, a key lookup's
 *   answer, stdout) runs until they end. Capping the opens in flight caps that turn: TURN_BUDGET_MS of opening,
 *   then the rest of the process gets its turn. A fixed 8 made a cached lookup wait behind eight decrypts
 *   (2 ms p50 under bursts) and `--concurrency 1` lowered p99 in 5 of 6 runs (issue 15); a fixed 1 would hold
 *   every message behind one sender's DNS lookup.
 * - The mean is of synchronous opens only (a lookup's wait is not CPU), an exponential average over about the
 *   last 16, so the rule follows the machine: about 0.3 ms an open on a loaded x86 core gives 6 at once, 1-1.5 ms
 *   on a Pi 4 gives the floor, 2.
 * - MIN_OPENS 2: one message waiting for its sender's DNS lookup never stops the next from being opened.
 *   MAX_OPENS 64: a bound when opens are far cheaper than the budget (a test double).
 * Until the first open is measured the floor applies.
 */
export const TURN_BUDGET_MS = 2
export const MIN_OPENS = 2
export const MAX_OPENS = 64

export class OpenPace {
  #meanMs: number | undefined

  /** Records the wall time of one synchronous open. */
  record(ms: number): void {
    if (!(ms >= 0)) return
    this.#meanMs = this.#meanMs === undefined ? ms : this.#meanMs + (ms - this.#meanMs) / 16
  }

  /** The mean synchronous open, ms (undefined before the first). */
  get meanMs(): number | undefined {
    return this.#meanMs
  }

  /** Opens to allow at once now. */
  limit(): number {
    if (this.#meanMs === undefined) return MIN_OPENS
    if (this.#meanMs <= 0) return MAX_OPENS
    return Math.min(MAX_OPENS, Math.max(MIN_OPENS, Math.floor(TURN_BUDGET_MS / this.#meanMs)))
  }
}
