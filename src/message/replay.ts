/** Replay protection for (sender, seq): the ReplayGuard interface and a bounded in-memory sliding window (RFC 4303 §3.4.3 style). */

export interface ReplayGuard {
  /** True when `seq` is fresh for `sender`, and records it; false for a replay or a number too far behind. */
  check(sender: string, seq: number): boolean
}

export interface WindowOptions {
  /** How many numbers below the highest seen are still accepted once each (out-of-order delivery). */
  window?: number
  /** How many senders are tracked; the least recently seen is forgotten first (the time window still bounds its replays). */
  maxSenders?: number
}

interface SenderWindow {
  high: number
  /** Bit i set: high - i was seen. */
  bits: Uint32Array
}

/**
 * An IPsec-style anti-replay window per sender: a high-water mark plus a bitmap of the `window` numbers below
 * it. Memory is bounded: `maxSenders` x (window / 8) bytes. It forgets on restart; the durable guard (device/)
 * keeps the high-water marks in the state directory.
 */
export function createReplayWindow(opts: WindowOptions = {}): ReplayGuard & { size(): number } {
  const window = Math.max(32, Math.ceil((opts.window ?? 1024) / 32) * 32)
  const maxSenders = opts.maxSenders ?? 10_000
  const senders = new Map<string, SenderWindow>()
  const words = window / 32
  const testBit = (w: SenderWindow, i: number): boolean => (((w.bits[i >>> 5] as number) >>> (i & 31)) & 1) === 1
  const setBit = (w: SenderWindow, i: number): void => {
    w.bits[i >>> 5] = (w.bits[i >>> 5] as number) | (1 << (i & 31))
  }
  function shift(w: SenderWindow, by: number): void {
    if (by >= window) {
      w.bits.fill(0)
      return
    }
    // Move every bit up by `by` positions (bit i -> i + by), highest word first.
    const ws = by >>> 5
    const bs = by & 31
    for (let k = words - 1; k >= 0; k--) {
      const src = k - ws
      let v = src >= 0 ? (w.bits[src] as number) << bs : 0
      if (bs !== 0 && src - 1 >= 0) v |= (w.bits[src - 1] as number) >>> (32 - bs)
      w.bits[k] = v >>> 0
    }
  }
  return {
    check(sender, seq) {
      if (!Number.isSafeInteger(seq) || seq < 0) return false
      let w = senders.get(sender)
      if (w === undefined) {
        if (senders.size >= maxSenders) senders.delete(senders.keys().next().value as string)
        w = { high: seq, bits: new Uint32Array(words) }
        setBit(w, 0)
        senders.set(sender, w)
        return true
      }
      // Refresh recency (Map keeps insertion order: the first key is the least recently seen).
      senders.delete(sender)
      senders.set(sender, w)
      if (seq > w.high) {
        shift(w, seq - w.high)
        w.high = seq
        setBit(w, 0)
        return true
      }
      const age = w.high - seq
      if (age >= window || testBit(w, age)) return false
      setBit(w, age)
      return true
    },
    size: () => senders.size,
  }
}
