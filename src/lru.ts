/** A bounded map that evicts its least recently used entry: the one cache shape of the tree (keys, names, DNS answers). */

/**
 * A Map with at most `max` entries. `set` puts an entry at the young end and, when full, drops the oldest first;
 * `get` moves a hit to the young end (a true LRU), `peek` reads without touching the order (for callers that want
 * insertion order, or that read on a path where the reorder is not worth it). A JS Map keeps insertion order, so
 * the oldest entry is always the first key: every operation is O(1).
 */
export class Lru<K, V> {
  readonly max: number
  readonly #map = new Map<K, V>()

  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`an LRU holds at least one entry, not ${max}`)
    this.max = max
  }

  get size(): number {
    return this.#map.size
  }

  has(key: K): boolean {
    return this.#map.has(key)
  }

  /** The value, now the most recently used; undefined on a miss. */
  get(key: K): V | undefined {
    const v = this.#map.get(key)
    if (v === undefined) return undefined
    this.#map.delete(key)
    this.#map.set(key, v)
    return v
  }

  /** The value, leaving the order alone. */
  peek(key: K): V | undefined {
    return this.#map.get(key)
  }

  /** Stores `value` as the most recently used, evicting the least recently used entry if the map is full. */
  set(key: K, value: V): this {
    this.#map.delete(key)
    if (this.#map.size >= this.max) this.#map.delete(this.#map.keys().next().value as K)
    this.#map.set(key, value)
    return this
  }

  delete(key: K): boolean {
    return this.#map.delete(key)
  }

  clear(): void {
    this.#map.clear()
  }

  /** Keys from the least to the most recently used. */
  keys(): MapIterator<K> {
    return this.#map.keys()
  }

  /** Entries from the least to the most recently used. */
  entries(): MapIterator<[K, V]> {
    return this.#map.entries()
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.#map.entries()
  }
}
