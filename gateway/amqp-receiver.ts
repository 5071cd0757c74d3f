/** The gateway's AMQP side: each delivery of the AMQP source opened, handed to the sink, acknowledged once the sink made it durable. */

import { Backoff } from '../messaging/backoff.js'
import { isDaneelError, isTemporary } from '../src/errors.js'
import { type Logger, silentLogger } from '../src/log.js'
import type { Opener } from '../src/message/open.js'
import { OpenGate } from './open-gate.js'
import type { ReceiverSink } from './sink.js'
import type { AmqpSource } from './source-amqp.js'

/*
 * What mqtt-source.ts is for MQTT, for a RabbitMQ queue (docs/scale.md):
 * - AMQP acknowledges each delivery by its own tag, in any order: no arrival-order queue of acks as MQTT needs.
 * - Bounded by the channel's prefetch (the broker sends no more unacknowledged) and by the sink, which waits for
 *   room in the ingest before it resolves.
 * - A permanent refusal is acknowledged (counted under its code); a temporary one (isTemporary: DNS timeout,
 *   SERVFAIL, indeterminate DNSSEC, an unsynced clock…) is retried with backoff while the delivery's channel
 *   lives, never acknowledged meanwhile. Once its channel is gone, the broker requeues it for whichever worker
 *   consumes next, and the store counts a second copy as a duplicate.
 */
export interface AmqpReceiverOptions {
  source: AmqpSource
  opener: Opener
  sink: ReceiverSink
  maxMessageSize: number
  /** Messages opened at once (default 8): a backlog of opens must not starve the HTTP server's turns. */
  concurrency?: number
  onRejected?: (code: string) => void
  now?: () => number
  logger?: Logger
}

export interface AmqpReceiverStats {
  received: number
  acknowledged: number
  rejected: number
  retries: number
}

export class AmqpReceiver {
  readonly #o: AmqpReceiverOptions
  readonly #log: Logger
  readonly #now: () => number
  readonly #gate: OpenGate
  #s: AmqpReceiverStats = { received: 0, acknowledged: 0, rejected: 0, retries: 0 }

  constructor(o: AmqpReceiverOptions) {
    this.#o = o
    this.#log = o.logger ?? silentLogger
    this.#now = o.now ?? Date.now
    this.#gate = new OpenGate(o.opener, o.concurrency)
  }

  stats(): AmqpReceiverStats & { source: ReturnType<AmqpSource['stats']> } {
    return { ...this.#s, source: this.#o.source.stats() }
  }

  /** Resolves once consuming (the source retries across its URLs until then). */
  start(): Promise<void> {
    return this.#o.source.start((payload, ack, live) => {
      this.#s.received++
      const receivedAt = this.#now()
      const done = (): void => {
        this.#s.acknowledged++
        ack()
      }
      if (payload.length > this.#o.maxMessageSize) {
        this.#reject('ERR_MESSAGE_TOO_LARGE')
        done()
        return
      }
      void this.#attempt(new Uint8Array(payload.buffer, payload.byteOffset, payload.length), receivedAt, live, done)
    })
  }

  /** Takes no more deliveries; those in hand can still be acknowledged until `close`. */
  pause(): Promise<void> {
    return this.#o.source.pause()
  }

  close(): Promise<void> {
    return this.#o.source.stop()
  }

  async #attempt(payload: Uint8Array, receivedAt: number, live: () => boolean, done: () => void): Promise<void> {
    const backoff = new Backoff({ baseMs: 100, capMs: 30_000 })
    for (;;) {
      try {
        const opened = await this.#open(payload)
        await this.#o.sink.deliver(opened, payload, receivedAt)
        done()
        return
      } catch (err) {
        const code = isDaneelError(err) ? err.code : 'ERR_INTERNAL'
        if (!isTemporary(err)) {
          this.#reject(code)
          this.#log.debug('message rejected', { code, cause: String((err as Error).cause ?? '') })
          done()
          return
        }
        if (!live()) return // requeued by the broker with its channel
        this.#s.retries++
        if (backoff.attempt === 0) this.#log.warn('temporary failure; retrying', { code, error: String(err) })
        await new Promise((r) => setTimeout(r, backoff.next()))
        if (!live()) return
      }
    }
  }

  /** The opener, at most `concurrency` at once (open-gate.ts). */
  #open(payload: Uint8Array): ReturnType<Opener['open']> {
    return this.#gate.open(payload)
  }

  #reject(code: string): void {
    this.#s.rejected++
    this.#o.onRejected?.(code)
  }
}
