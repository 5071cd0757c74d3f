/** Concurrent requests for one key share one run: the single flight of DNS exchanges, DNS answers, peer lookups, PKIX-CD fetches. */

/**
 * While a run for a key is pending, every `run(key, start)` gets its promise, so N concurrent callers cost one
 * exchange (the validator asks for the same DS/DNSKEY at once; many messages from one new sender arrive together).
 * Otherwise `start()` begins a new one. The key is forgotten as soon as the run settles, fulfilled or rejected:
 * nothing is remembered here (caching is the caller's, with its own TTL), and a failure is retried by the next call.
 */
export class SingleFlight<K, V> {
  readonly #pending = new Map<K, Promise<V>>()

  /** How many keys have a run in flight. */
  get size(): number {
    return this.#pending.size
  }

  run(key: K, start: () => Promise<V>): Promise<V> {
    const running = this.#pending.get(key)
    if (running !== undefined) return running
    const p = start()
    this.#pending.set(key, p)
    const clear = (): void => {
      this.#pending.delete(key)
    }
    p.then(clear, clear)
    return p
  }
}
