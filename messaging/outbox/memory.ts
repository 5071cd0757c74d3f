/** An in-memory outbox (same contract as the disk one, no durability): for one-shot `daneel send` and tests. */
import { DaneelError } from '../../src/errors.js'
import type { Outbox, OutboxEntry, OutboxStats } from './types.js'

export class MemoryOutbox implements Outbox {
  readonly #maxEntries: number
  #entries = new Map<number, OutboxEntry>()
  #handedOut = new Set<number>()
  #listeners: (() => void)[] = []
  #nextId = 1
  #closed = false
  #s: OutboxStats = { pending: 0, diskBytes: 0, appended: 0, acked: 0, dropped: 0, corrupt: 0, syncs: 0 }

  /** Bounded in entries; when full the oldest entry is dropped and counted, as in the disk outbox. */
  constructor(opts: { maxEntries?: number } = {}) {
    this.#maxEntries = opts.maxEntries ?? 10_000
  }

  get pending(): number {
    return this.#entries.size
  }

  get nextId(): number {
    return this.#nextId
  }

  stats(): OutboxStats {
    return { ...this.#s, pending: this.#entries.size }
  }

  async append(topic: string, payload: Uint8Array | string): Promise<number> {
    if (this.#closed) throw new DaneelError('ERR_IO', 'outbox is closed')
    const id = this.#nextId++
    if (this.#entries.size >= this.#maxEntries) {
      for (const old of this.#entries.keys()) {
        this.#entries.delete(old)
        this.#handedOut.delete(old)
        this.#s.dropped++
        break
      }
    }
    this.#entries.set(id, { id, topic, payload: Buffer.from(payload) })
    this.#s.appended++
    for (const fn of this.#listeners) fn()
    return id
  }

  async take(max: number): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = []
    for (const [id, e] of this.#entries) {
      if (out.length >= max) break
      if (this.#handedOut.has(id)) continue
      this.#handedOut.add(id)
      out.push(e)
    }
    return out
  }

  ack(id: number): void {
    if (!this.#entries.delete(id)) return
    this.#handedOut.delete(id)
    this.#s.acked++
  }

  rewind(): void {
    this.#handedOut.clear()
    if (this.#entries.size > 0) for (const fn of this.#listeners) fn()
  }

  onAvailable(fn: () => void): void {
    this.#listeners.push(fn)
  }

  async close(): Promise<void> {
    this.#closed = true
  }
}
