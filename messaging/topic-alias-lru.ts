/** The few members of lru-cache's LRUCache that MQTT.js's topic-alias-send uses, on a Map: what the device bundle carries instead of lru-cache (16.7 KB minified). */

/*
 * MQTT.js 5 builds a TopicAliasSend (lib/topic-alias-send.js) whenever an MQTT 5 broker's CONNACK offers topic
 * aliases (Mosquitto offers 10), and it is the only user of lru-cache in the device bundle. It calls `new
 * LRUCache({ max })`, get, set, clear, size and keys(), and reads the least recently used alias as the last of
 * keys(): lru-cache iterates from most to least recently used. A Map keeps insertion order, so a get or set moves
 * the entry to the end and keys() walks backwards. test/messaging/topic-alias-lru.test.ts runs both side by side.
 */

export class LRUCache<K, V> {
  readonly max: number
  private readonly map = new Map<K, V>()

  constructor(opts: { max: number }) {
    if (!Number.isSafeInteger(opts.max) || opts.max < 1) throw new TypeError('max must be a positive integer')
    this.max = opts.max
  }

  get size(): number {
    return this.map.size
  }

  get(key: K): V | undefined {
    if (!this.map.has(key)) return undefined
    const v = this.map.get(key) as V
    this.map.delete(key)
    this.map.set(key, v)
    return v
  }

  set(key: K, value: V): this {
    this.map.delete(key)
    this.map.set(key, value)
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K)
    return this
  }

  has(key: K): boolean {
    return this.map.has(key)
  }

  delete(key: K): boolean {
    return this.map.delete(key)
  }

  clear(): void {
    this.map.clear()
  }

  /** Most recently used first, as lru-cache gives them. */
  *keys(): Generator<K> {
    const ks = [...this.map.keys()]
    for (let i = ks.length - 1; i >= 0; i--) yield ks[i] as K
  }
}
