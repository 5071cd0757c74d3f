/** The gateway's MQTT source: open each publication, hand it to a sink, PUBACK only once the sink made it durable, in order. */

import type { MqttClient } from 'mqtt'
import { Backoff } from '../messaging/backoff.js'
import type { MqttLink } from '../messaging/mqtt.js'
import { isDaneelError } from '../src/errors.js'
import { type Logger, silentLogger } from '../src/log.js'
import type { Opener } from '../src/message/open.js'
import { OpenGate } from './open-gate.js'
import type { ReceiverSink } from './sink.js'

/*
 * Why this exists beside messaging/receiver.ts: that receiver acknowledges a message when it is queued, before
 * it is opened; the gateway may acknowledge only after the commit (exactly once across a SIGKILL). This is the
 * thin adapter until the receiver takes a sink itself; it keeps the same contract (`ReceiverSink`).
 * - MQTT.js handles incoming packets one at a time and sends the PUBACK when `handleMessage`'s callback runs
 *   without an error. Waiting there for the commit would allow one message per fsync. So the callback is called
 *   at once with a marker error (MQTT.js then sends no PUBACK and reads the next packet) and the PUBACK is sent
 *   here when the outcome is durable. MQTT 5 §4.6 (and 3.1.1 §4.6) want PUBACKs in the order the PUBLISHes came:
 *   acknowledgements wait in arrival order and go out as a prefix becomes ready.
 * - Bounded: the broker sends at most its in-flight window unacknowledged (Mosquitto: max_inflight_messages 20,
 *   or our receive maximum); past `maxPending` the callback is held too, so MQTT.js stops reading the socket.
 * - A rejection with a permanent code is acknowledged (counted under its code); a temporary one (DNS timeout,
 *   SERVFAIL, indeterminate DNSSEC, PKIX-CD fetch, unsynced clock) is retried with backoff and never acknowledged
 *   meanwhile. A message of an old connection is never acknowledged on a new one: the broker redelivers it and
 *   the store counts the second copy as a duplicate.
 */
export const TEMPORARY_CODES: ReadonlySet<string> = new Set([
  'ERR_DNS_TIMEOUT',
  'ERR_DNS_SERVFAIL',
  'ERR_DNSSEC_INDETERMINATE',
  'ERR_PKIXCD_FETCH',
  'ERR_CLOCK_UNSYNCED',
  'ERR_INTERNAL',
])

export interface MqttSourceOptions {
  link: MqttLink
  topic: string
  opener: Opener
  sink: ReceiverSink
  maxMessageSize: number
  /** Messages received and not yet acknowledged before reading pauses (default 256: two batches; more only adds wait). */
  maxPending?: number
  /** Messages opened at once (default 8): a backlog of opens must not starve the HTTP server's turns. */
  concurrency?: number
  onRejected?: (code: string) => void
  onSubscribed?: () => void
  now?: () => number
  logger?: Logger
}

export interface MqttSourceStats {
  received: number
  acknowledged: number
  rejected: number
  retries: number
  pending: number
}

interface Slot {
  messageId: number | undefined
  ready: boolean
}

class DeferredAck extends Error {}

export class MqttSource {
  readonly #o: MqttSourceOptions
  readonly #log: Logger
  readonly #now: () => number
  readonly #maxPending: number
  readonly #gate: OpenGate
  #generation = 0
  #order: Slot[] = []
  #held: (() => void)[] = []
  #s: MqttSourceStats = { received: 0, acknowledged: 0, rejected: 0, retries: 0, pending: 0 }

  constructor(o: MqttSourceOptions) {
    this.#o = o
    this.#log = o.logger ?? silentLogger
    this.#now = o.now ?? Date.now
    this.#maxPending = Math.max(1, o.maxPending ?? 256)
    this.#gate = new OpenGate(o.opener, o.concurrency)
    o.link.on('up', () => this.#onUp())
    o.link.on('down', () => this.#onDown())
  }

  stats(): MqttSourceStats {
    return { ...this.#s, pending: this.#order.length }
  }

  #onUp(): void {
    const client = this.#o.link.client
    const gen = this.#generation
    client.handleMessage = (packet, done) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
      this.#take(client, gen, packet.qos > 0 ? packet.messageId : undefined, payload)
      const next = (): void => done(new DeferredAck('PUBACK after the commit'))
      if (this.#order.length < this.#maxPending) next()
      else this.#held.push(next)
    }
    client.subscribe(this.#o.topic, { qos: 1 }, (err) => {
      if (err) this.#log.error('subscribe failed', { topic: this.#o.topic, error: err.message })
      else {
        this.#log.info('subscribed', { topic: this.#o.topic })
        this.#o.onSubscribed?.()
      }
    })
  }

  #onDown(): void {
    // Everything of this connection is forgotten: its acks would name packet ids of a finished session stream.
    this.#generation++
    this.#order = []
    for (const h of this.#held.splice(0)) h()
  }

  #take(client: MqttClient, gen: number, messageId: number | undefined, payload: Buffer): void {
    this.#s.received++
    const slot: Slot = { messageId, ready: false }
    this.#order.push(slot)
    const receivedAt = this.#now()
    const finish = (): void => {
      slot.ready = true
      if (gen === this.#generation) this.#flush(client)
    }
    if (payload.length > this.#o.maxMessageSize) {
      this.#reject('ERR_MESSAGE_TOO_LARGE')
      finish()
      return
    }
    void this.#attempt(payload, receivedAt, gen, new Backoff({ baseMs: 100, capMs: 30_000 }), finish)
  }

  async #attempt(payload: Buffer, receivedAt: number, gen: number, backoff: Backoff, finish: () => void): Promise<void> {
    for (;;) {
      try {
        const opened = await this.#open(payload)
        await this.#o.sink.deliver(opened, payload, receivedAt)
        finish()
        return
      } catch (err) {
        const code = isDaneelError(err) ? err.code : 'ERR_INTERNAL'
        if (!TEMPORARY_CODES.has(code)) {
          this.#reject(code)
          this.#log.debug('message rejected', { code, cause: String((err as Error).cause ?? '') })
          finish()
          return
        }
        if (gen !== this.#generation) return // the broker redelivers it on the new connection
        this.#s.retries++
        if (backoff.attempt === 0) this.#log.warn('temporary failure; retrying', { code, error: String(err) })
        await new Promise((r) => setTimeout(r, backoff.next()))
        if (gen !== this.#generation) return
      }
    }
  }

  /** The opener, at most `concurrency` at once (open-gate.ts). */
  #open(payload: Buffer): ReturnType<Opener['open']> {
    return this.#gate.open(payload)
  }

  #reject(code: string): void {
    this.#s.rejected++
    this.#o.onRejected?.(code)
  }

  /** Sends the PUBACKs of the ready prefix, in arrival order; lets MQTT.js read on if it was held. */
  #flush(client: MqttClient): void {
    while (this.#order.length > 0 && (this.#order[0] as Slot).ready) {
      const slot = this.#order.shift() as Slot
      if (slot.messageId !== undefined) {
        // MQTT.js has no public per-message ack; this is what its own publish handler sends (handlers/publish.js)
        ;(client as unknown as { _sendPacket(p: object): void })._sendPacket({ cmd: 'puback', messageId: slot.messageId, reasonCode: 0 })
      }
      this.#s.acknowledged++
    }
    while (this.#held.length > 0 && this.#order.length < this.#maxPending) (this.#held.shift() as () => void)()
  }
}
