/** The listen pipeline: bounded queue with backpressure, a bounded number of opens at once, one JSON line per message, counters. */

import type { PeerDirectory } from '../src/dane/discover.js'
import { DaneelError, isDaneelError } from '../src/errors.js'
import { type Logger, silentLogger } from '../src/log.js'
import type { OpenedMessage, Opener, ResolvedSender } from '../src/message/open.js'
import { isTrustedSender } from '../src/message/x5u.js'
import type { MqttLink } from './mqtt.js'

/*
 * Stages, in the order the opener (src/message/open.ts) runs them: size cap, parse, decrypt, trusted-domain
 * check of the sender named inside, sender lookup (cached by the peer directory), verify, audience/time/
 * replay. This file owns what surrounds them:
 * - isolation: every message is opened in its own promise; a rejection or even an internal error is
 *   counted under its code and the next message goes on;
 * - the size cap is applied again at the door, so an oversized message is never queued;
 * - a bounded queue: while it is full, MQTT.js is not told the message was handled, so it reads nothing
 *   more from the socket (TCP backpressure up to the broker, which queues for our session);
 * - at most `concurrency` opens at once (they wait on DNS only on a cache miss);
 * - output backpressure: while stdout does not drain, no more messages are opened.
 * The PUBACK goes out when a message is queued: a receiver killed with a full queue loses at most
 * `queueLimit` messages (the broker re-sends nothing already acknowledged).
 */
export interface ReceiverOutput {
  write(line: string): boolean
  once(event: 'drain', fn: () => void): unknown
}

export interface ReceiverOptions {
  opener: Opener
  maxMessageSize: number
  out: ReceiverOutput
  concurrency?: number
  queueLimit?: number
  now?: () => number
  logger?: Logger
}

export interface ReceiverStats {
  received: number
  opened: number
  rejected: Record<string, number>
  queued: number
  inFlight: number
  queueHigh: number
  blockedAcks: number
}

interface Item {
  payload: Buffer
  receivedAt: number
}

export class Receiver {
  readonly #opts: ReceiverOptions
  readonly #log: Logger
  readonly #now: () => number
  readonly #concurrency: number
  readonly #limit: number
  #queue: Item[] = []
  #blocked: (() => void)[] = []
  #active = 0
  #outputBlocked = false
  #idle: (() => void)[] = []
  #s: ReceiverStats = { received: 0, opened: 0, rejected: {}, queued: 0, inFlight: 0, queueHigh: 0, blockedAcks: 0 }

  constructor(opts: ReceiverOptions) {
    this.#opts = opts
    this.#log = opts.logger ?? silentLogger
    this.#now = opts.now ?? Date.now
    this.#concurrency = Math.max(1, opts.concurrency ?? 8)
    this.#limit = Math.max(1, opts.queueLimit ?? 1024)
  }

  stats(): ReceiverStats {
    return { ...this.#s, rejected: { ...this.#s.rejected }, queued: this.#queue.length, inFlight: this.#active }
  }

  /** One incoming message; `ack` is called once it is queued (at once, or when the queue has room again). */
  push(payload: Buffer, ack: () => void): void {
    this.#s.received++
    if (payload.length > this.#opts.maxMessageSize) {
      this.#reject('ERR_MESSAGE_TOO_LARGE')
      ack()
      return
    }
    this.#queue.push({ payload, receivedAt: this.#now() })
    this.#s.queueHigh = Math.max(this.#s.queueHigh, this.#queue.length)
    if (this.#queue.length < this.#limit) ack()
    else {
      this.#s.blockedAcks++
      this.#blocked.push(ack)
    }
    this.#pump()
  }

  /** Resolves when nothing is queued or being opened. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#active === 0) return Promise.resolve()
    return new Promise((r) => this.#idle.push(r))
  }

  #reject(code: string): void {
    this.#s.rejected[code] = (this.#s.rejected[code] ?? 0) + 1
  }

  #pump(): void {
    while (this.#active < this.#concurrency && this.#queue.length > 0 && !this.#outputBlocked) {
      const item = this.#queue.shift() as Item
      if (this.#blocked.length > 0 && this.#queue.length < this.#limit) (this.#blocked.shift() as () => void)()
      this.#active++
      this.#opts.opener
        .open(item.payload)
        .then(
          (m) => this.#emit(m, item.receivedAt),
          (err: unknown) => {
            const code = isDaneelError(err) ? err.code : 'ERR_INTERNAL'
            this.#reject(code)
            if (code === 'ERR_INTERNAL') this.#log.error('internal error opening a message', { error: String(err) })
            else this.#log.debug('message rejected', { code, cause: String((err as Error).cause ?? '') })
          },
        )
        .finally(() => {
          this.#active--
          this.#pump()
          if (this.#queue.length === 0 && this.#active === 0) for (const r of this.#idle.splice(0)) r()
        })
    }
  }

  #emit(m: OpenedMessage, receivedAt: number): void {
    this.#s.opened++
    const out: Record<string, unknown> = { from: m.from }
    if (m.claims !== undefined) out.claims = m.claims
    if (m.payload !== undefined) out.payload = Buffer.from(m.payload).toString('base64url')
    out.auth = m.auth
    out.receivedAt = new Date(receivedAt).toISOString()
    if (!this.#opts.out.write(`${JSON.stringify(out)}\n`) && !this.#outputBlocked) {
      this.#outputBlocked = true
      this.#opts.out.once('drain', () => {
        this.#outputBlocked = false
        this.#pump()
      })
    }
  }
}

/**
 * resolveSender for the opener, over the DANE peer directory (which caches by TTL and coalesces lookups).
 * It refuses names outside TRUSTED_DOMAINS itself too: no lookup is ever made for an untrusted sender,
 * even if an opener forgot its own check.
 */
export function directoryResolver(directory: PeerDirectory, trustedDomains: readonly string[]): (name: string) => Promise<ResolvedSender> {
  return async (name) => {
    if (!isTrustedSender(name, trustedDomains)) throw new DaneelError('ERR_SENDER_UNTRUSTED', 'sender not trusted')
    const peer = await directory.lookup(name)
    // every published key: during a sender's rollover its TLSA RRset holds the current and the next one
    return { spki: peer.spki, spkis: peer.spkis, auth: peer.auth }
  }
}

/** Subscribes `receiver` to `topic` on every CONNACK and routes each publication through it. */
export function attachReceiver(link: MqttLink, topic: string, receiver: Receiver, log: Logger = silentLogger): void {
  link.on('up', () => {
    const client = link.client
    client.handleMessage = (packet, done) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
      receiver.push(payload, () => done())
    }
    client.subscribe(topic, { qos: 1 }, (err) => {
      if (err) log.error('subscribe failed', { topic, error: err.message })
      else log.info('subscribed', { topic })
    })
  })
}
