/** Group commit: verified messages batched into one store transaction each, acknowledged only after their batch committed. */
import { type GatewayMetrics, gatewayMetrics } from './metrics.js'
import { incomingProblem } from './store/check.js'
import type { CommitOutcome, IncomingMessage, ReadingStore } from './store/types.js'

/**
 * Why this shape:
 * - Exactly once needs ack-after-durable: a PUBACK sent before the commit loses the message on a crash, a commit
 *   without a PUBACK only costs a redelivery, which UNIQUE(node, seq) turns into a 'duplicate'.
 * - One fsync per batch instead of per message (bench/gateway-store.ts): the batch closes at `batchSize`
 *   messages or `maxDelayMs` after its first one, whichever comes first.
 * - A failed commit (disk full, SQLITE_BUSY past the busy timeout, I/O error) is retried with capped, jittered
 *   backoff and its messages are never acknowledged meanwhile: they stay in the queue and in the broker's
 *   in-flight window. It is logged once per failure streak (then at most every `logEveryMs`), and once more
 *   when it recovers, so a full disk is one line, not thousands.
 * - Bounded: `push` returns false once `highWater` messages are waiting (the caller stops reading, e.g. pauses
 *   its MQTT client), and `onDrain` listeners run when the queue falls to half of it. A message pushed anyway
 *   is still taken: it is verified, and dropping it would only delay it to a redelivery.
 */
export interface IngestOptions {
  store: ReadingStore
  /** Messages per transaction, at most (default 128). */
  batchSize?: number
  /** How long the first message of a batch waits for company (default 5 ms). */
  maxDelayMs?: number
  /** Queue length at which `push` says stop (default 4 batches). */
  highWater?: number
  metrics?: GatewayMetrics
  log?: (line: string) => void
  /** Retry backoff after a failed commit: base and cap in ms (default 50 and 5,000). */
  retryBaseMs?: number
  retryMaxMs?: number
  /** A reminder line during a long failure streak at most this often (default 60,000 ms). */
  logEveryMs?: number
  random?: () => number
  /** Monotonic ms, for latency and log pacing. */
  now?: () => number
}

export type Ack = (outcome: CommitOutcome) => void

interface Pending {
  m: IncomingMessage
  ack: Ack
}

export class Ingest {
  readonly metrics: GatewayMetrics
  readonly #store: ReadingStore
  readonly #batchSize: number
  readonly #maxDelayMs: number
  readonly #highWater: number
  readonly #log: (line: string) => void
  readonly #retryBaseMs: number
  readonly #retryMaxMs: number
  readonly #logEveryMs: number
  readonly #random: () => number
  readonly #now: () => number
  #queue: Pending[] = []
  #busy = false
  #closed = false
  #timer: NodeJS.Timeout | undefined
  #needDrain = false
  #drainListeners: (() => void)[] = []
  #flushWaiters: (() => void)[] = []
  #failures = 0
  #streakStart = 0
  #lastLog = 0
  #idle: Promise<void> = Promise.resolve()
  #wake: (() => void) | undefined

  constructor(o: IngestOptions) {
    this.#store = o.store
    this.#batchSize = o.batchSize ?? 128
    this.#maxDelayMs = o.maxDelayMs ?? 5
    this.#highWater = o.highWater ?? 4 * this.#batchSize
    if (!(Number.isSafeInteger(this.#batchSize) && this.#batchSize >= 1)) throw new RangeError('batchSize must be a positive integer')
    if (!(this.#highWater >= this.#batchSize)) throw new RangeError('highWater must be at least batchSize')
    this.metrics = o.metrics ?? gatewayMetrics()
    this.#log = o.log ?? ((line) => process.stderr.write(`${line}\n`))
    this.#retryBaseMs = o.retryBaseMs ?? 50
    this.#retryMaxMs = o.retryMaxMs ?? 5000
    this.#logEveryMs = o.logEveryMs ?? 60_000
    this.#random = o.random ?? Math.random
    this.#now = o.now ?? (() => performance.now())
  }

  /** Messages waiting for their commit (including the batch being committed). */
  get depth(): number {
    return this.#queue.length
  }

  /** Consecutive failed commits of the current streak (0 when the store is healthy). */
  get failing(): number {
    return this.#failures
  }

  /**
   * Queues a verified message; `ack` runs once its batch committed, with 'stored' or 'duplicate'. Returns false
   * when the caller should stop reading until `onDrain`. Throws TypeError for a malformed message (not queued).
   */
  push(m: IncomingMessage, ack: Ack): boolean {
    if (this.#closed) throw new Error('ingest is closed')
    const problem = incomingProblem(m)
    if (problem !== undefined) throw new TypeError(`ingest: ${problem}`)
    this.#queue.push({ m, ack })
    this.metrics.queueDepth.set(this.#queue.length)
    this.#schedule()
    if (this.#queue.length >= this.#highWater) this.#needDrain = true
    return !this.#needDrain
  }

  /** Calls `listener` each time the queue drains after a `push` returned false; returns its unsubscribe. */
  onDrain(listener: () => void): () => void {
    this.#drainListeners.push(listener)
    return () => {
      this.#drainListeners = this.#drainListeners.filter((l) => l !== listener)
    }
  }

  /** Resolves when `push` may be called again (at once if it did not say stop). */
  drained(): Promise<void> {
    if (!this.#needDrain || this.#closed) return Promise.resolve()
    return new Promise((resolve) => {
      const off = this.onDrain(() => {
        off()
        resolve()
      })
    })
  }

  /** Resolves once everything pushed so far is committed and acknowledged (waits through a failure streak). */
  flush(): Promise<void> {
    if (this.#queue.length === 0 && !this.#busy) return Promise.resolve()
    this.#clearTimer()
    this.#kick()
    return new Promise((resolve) => this.#flushWaiters.push(resolve))
  }

  /**
   * Stops taking messages and waits for the commit in flight. Messages still queued are not acknowledged
   * (the broker redelivers them); returns how many. Does not close the store.
   */
  async close(): Promise<number> {
    this.#closed = true
    this.#clearTimer()
    this.#wake?.()
    await this.#idle
    const left = this.#queue.length
    this.#queue = []
    this.metrics.queueDepth.set(0)
    for (const w of this.#flushWaiters.splice(0)) w()
    for (const l of [...this.#drainListeners]) l() // whoever waits to push learns it is closed
    return left
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #schedule(): void {
    if (this.#busy || this.#closed || this.#queue.length === 0) return
    if (this.#queue.length >= this.#batchSize) {
      this.#clearTimer()
      this.#kick()
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined
        this.#kick()
      }, this.#maxDelayMs)
    }
  }

  #kick(): void {
    if (this.#busy || this.#closed) return
    this.#busy = true
    this.#idle = this.#run().finally(() => {
      this.#busy = false
      if (this.#queue.length === 0) for (const w of this.#flushWaiters.splice(0)) w()
      else if (this.#flushWaiters.length > 0) this.#kick()
      else this.#schedule()
    })
  }

  /** Commits one batch, retrying until it commits or the ingest closes. */
  async #run(): Promise<void> {
    const batch = this.#queue.slice(0, this.#batchSize)
    for (;;) {
      const t0 = this.#now()
      let outcomes: CommitOutcome[]
      try {
        outcomes = await this.#store.commit(batch.map((p) => p.m))
        if (outcomes.length !== batch.length) throw new Error(`the store returned ${outcomes.length} outcomes for ${batch.length} messages`)
      } catch (err) {
        this.metrics.commitErrors.inc()
        this.#noteFailure(err, batch.length)
        if (this.#closed) return
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.#backoff())
          this.#wake = () => {
            clearTimeout(t)
            resolve()
          }
        })
        this.#wake = undefined
        if (this.#closed) return
        continue
      }
      this.metrics.commitSeconds.observe((this.#now() - t0) / 1000)
      this.#noteSuccess()
      this.#queue.splice(0, batch.length)
      this.metrics.queueDepth.set(this.#queue.length)
      batch.forEach((p, i) => {
        const outcome = outcomes[i] as CommitOutcome
        if (outcome === 'stored') this.metrics.stored.inc()
        else this.metrics.duplicates.inc()
        this.metrics.lastSeen.set(Math.floor(p.m.receivedAt / 1000), p.m.node)
        try {
          p.ack(outcome)
        } catch (err) {
          this.#log(`ingest: an ack callback threw: ${(err as Error).message}`)
        }
      })
      if (this.#needDrain && this.#queue.length <= this.#highWater / 2) {
        this.#needDrain = false
        for (const l of [...this.#drainListeners]) l()
      }
      return
    }
  }

  #backoff(): number {
    const cap = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** Math.min(this.#failures - 1, 30))
    return cap / 2 + (cap / 2) * this.#random() // "equal jitter": never less than half the step
  }

  #noteFailure(err: unknown, held: number): void {
    const now = this.#now()
    this.#failures++
    const code = (err as { code?: unknown }).code
    const what = `${typeof code === 'string' ? `${code}: ` : ''}${(err as Error).message ?? String(err)}`
    if (this.#failures === 1) {
      this.#streakStart = now
      this.#lastLog = now
      this.#log(`store commit failed (${what}); retrying with backoff, ${held} messages held unacknowledged`)
    } else if (now - this.#lastLog >= this.#logEveryMs) {
      this.#lastLog = now
      this.#log(
        `store commit still failing after ${this.#failures} attempts over ${Math.round((now - this.#streakStart) / 1000)} s (${what})`,
      )
    }
  }

  #noteSuccess(): void {
    if (this.#failures === 0) return
    this.#log(
      `store commit recovered after ${this.#failures} failed attempts over ${Math.round((this.#now() - this.#streakStart) / 1000)} s`,
    )
    this.#failures = 0
  }
}
