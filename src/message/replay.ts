/** Replay protection for (sender, seq): the ReplayGuard interface and a bounded in-memory sliding window (RFC 4303 §3.4.3 style). */
import { Lru } from '../lru.js'

export interface ReplayGuard {
  /** True when `seq` is fresh for `sender`, and records it; false for a replay or a number too far behind. */
  check(sender: string, seq: number): boolean
  /**
   * Judges without recording (for a receiver that records only once the message's output is durable):
   * 'fresh' (above the sender's highest, or in its window and unseen), 'seen' (a replay, or too far behind),
   * 'unknown' (a sender it holds no state for: the time bound must judge).
   */
  judge?(sender: string, seq: number): Verdict
  /** Records `seq` as seen (durably for a durable guard; throws ERR_IO when it cannot). */
  record?(sender: string, seq: number): void
}

export type Verdict = 'fresh' | 'seen' | 'unknown'

export interface WindowOptions {
  /** How many numbers below the highest seen are still accepted once each (out-of-order delivery). */
  window?: number
  /** How many senders are tracked; the least recently seen is forgotten first (the time window still bounds its replays). */
  maxSenders?: number
}

interface SenderWindow {
  high: number
  /** A ring of `window` bits: bit (n mod window) set means n was seen (for n in (high - window, high]). */
  bits: Uint32Array
}

/**
 * An IPsec-style anti-replay window per sender: a high-water mark plus a ring bitmap of the `window` numbers
 * up to it, so moving the mark forward by d costs O(min(d, window)) bit clears, not a shift of the whole
 * map. Memory is bounded: `maxSenders` x (window / 8) bytes. It forgets on restart; a durable guard keeps the
 * high-water marks in the state directory.
 */
export function createReplayWindow(opts: WindowOptions = {}): Required<ReplayGuard> & { size(): number } {
  const window = Math.max(32, Math.ceil((opts.window ?? 1024) / 32) * 32)
  const maxSenders = opts.maxSenders ?? 10_000
  const senders = new Lru<string, SenderWindow>(maxSenders)
  const words = window / 32
  const slot = (n: number): number => n % window
  const testBit = (w: SenderWindow, n: number): boolean => {
    const i = slot(n)
    return (((w.bits[i >>> 5] as number) >>> (i & 31)) & 1) === 1
  }
  const setBit = (w: SenderWindow, n: number): void => {
    const i = slot(n)
    w.bits[i >>> 5] = (w.bits[i >>> 5] as number) | (1 << (i & 31))
  }
  const clearBit = (w: SenderWindow, n: number): void => {
    const i = slot(n)
    w.bits[i >>> 5] = (w.bits[i >>> 5] as number) & ~(1 << (i & 31))
  }
  const judge = (sender: string, seq: number): Verdict => {
    if (!Number.isSafeInteger(seq) || seq < 0) return 'seen'
    const w = senders.peek(sender)
    if (w === undefined) return 'unknown'
    if (seq > w.high) return 'fresh'
    return w.high - seq >= window || testBit(w, seq) ? 'seen' : 'fresh'
  }
  const check = (sender: string, seq: number): boolean => {
    if (!Number.isSafeInteger(seq) || seq < 0) return false
    // get() refreshes recency: the least recently seen sender is the one evicted
    let w = senders.get(sender)
    if (w === undefined) {
      w = { high: seq, bits: new Uint32Array(words) }
      setBit(w, seq)
      senders.set(sender, w)
      return true
    }
    if (seq > w.high) {
      // Slots between the old and the new mark now stand for new numbers: clear them.
      if (seq - w.high >= window) w.bits.fill(0)
      else for (let n = w.high + 1; n < seq; n++) clearBit(w, n)
      w.high = seq
      setBit(w, seq)
      return true
    }
    if (w.high - seq >= window || testBit(w, seq)) return false
    setBit(w, seq)
    return true
  }
  return {
    check,
    judge,
    record(sender, seq) {
      check(sender, seq)
    },
    size: () => senders.size,
  }
}
