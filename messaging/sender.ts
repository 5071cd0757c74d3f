/** Drains the outbox over an MQTT link: QoS 1 with a bounded in-flight window, entries removed on PUBACK. */
import { type Logger, silentLogger } from '../src/log.js'
import type { MqttLink } from './mqtt.js'
import type { Outbox, OutboxEntry } from './outbox.js'
import { FramePublisher } from './publish-frame.js'

/*
 * Up to `window` publications are in flight at once (MQTT.js's own store would replay one per round trip:
 * 200 messages through a 50 ms RTT took 10 s). The window is capped by the broker's receiveMaximum
 * (Mosquitto: 20). On disconnect, MQTT.js's in-flight entries are removed (their callbacks fire with an
 * error, which belongs to an old generation and is ignored) and the outbox is rewound on the next CONNACK:
 * every entry not acknowledged goes out again. QoS 1 is at-least-once; the receiver's replay guard drops
 * the duplicates. Each PUBLISH is encoded here and written to the socket with the payload as the outbox holds
 * it (publish-frame.ts): MQTT.js's publish() would allocate and copy more per message than the rest of a reading.
 */
export interface OutboxSenderOptions {
  window?: number
  logger?: Logger
}

export interface OutboxSenderStats {
  published: number
  inFlight: number
  window: number
}

export class OutboxSender {
  readonly #link: MqttLink
  readonly #outbox: Outbox
  readonly #log: Logger
  readonly #maxWindow: number
  #window: number
  #inFlight = 0
  #generation = 0
  #pumping = false
  #again = false
  #published = 0
  readonly #frames = new FramePublisher()
  #idleWaiters: (() => void)[] = []

  constructor(link: MqttLink, outbox: Outbox, opts: OutboxSenderOptions = {}) {
    this.#link = link
    this.#outbox = outbox
    this.#log = opts.logger ?? silentLogger
    this.#maxWindow = Math.max(1, opts.window ?? 20)
    this.#window = this.#maxWindow
    link.on('up', () => {
      this.#window = Math.min(this.#maxWindow, link.receiveMaximum ?? this.#maxWindow)
      this.#outbox.rewind()
      this.#pump()
    })
    link.on('down', () => this.#onDown())
    outbox.onAvailable(() => this.#pump())
  }

  stats(): OutboxSenderStats {
    return { published: this.#published, inFlight: this.#inFlight, window: this.#window }
  }

  /** Resolves once the outbox is empty (or after `timeoutMs`); true when empty. */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.#outbox.pending === 0) return true
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.#outbox.pending === 0), timeoutMs)
      this.#idleWaiters.push(() => {
        clearTimeout(t)
        resolve(true)
      })
    })
  }

  #onDown(): void {
    this.#generation++
    this.#inFlight = 0
    try {
      const client = this.#link.client
      for (const mid of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(mid))
    } catch {
      // not started
    }
  }

  /**
   * Publishes while the window has room. Entries the outbox holds in memory go out synchronously (no promise per
   * PUBACK: this runs once per message); only when one must be read from disk does it go on asynchronously.
   */
  #pump(): void {
    if (this.#pumping) {
      this.#again = true
      return
    }
    this.#pumping = true
    let handedOver = false
    try {
      do {
        this.#again = false
        while (this.#link.connected && this.#inFlight < this.#window) {
          const batch = this.#outbox.takeFromMemory?.(this.#window - this.#inFlight)
          if (batch === undefined) {
            handedOver = true
            void this.#pumpFromDisk()
            return
          }
          if (batch.length === 0) break
          this.#publish(batch, this.#generation)
        }
      } while (this.#again)
    } finally {
      if (!handedOver) this.#pumping = false
    }
  }

  async #pumpFromDisk(): Promise<void> {
    try {
      do {
        this.#again = false
        while (this.#link.connected && this.#inFlight < this.#window) {
          const gen = this.#generation
          const batch = await this.#outbox.take(this.#window - this.#inFlight)
          if (batch.length === 0) break
          if (gen !== this.#generation || !this.#link.connected) {
            this.#again = false
            break // went down while reading: the outbox is rewound on the next CONNACK
          }
          this.#publish(batch, gen)
        }
      } while (this.#again)
    } finally {
      this.#pumping = false
    }
  }

  #publish(batch: readonly OutboxEntry[], gen: number): void {
    const client = this.#link.client
    for (const e of batch) {
      this.#inFlight++
      this.#frames.publish(client, e.topic, e.payload, (err) => this.#done(gen, e.id, err))
    }
  }

  #done(gen: number, id: number, err: Error | null | undefined): void {
    if (gen !== this.#generation) return
    this.#inFlight--
    if (err !== undefined && err !== null) {
      this.#log.debug('publish failed; will resend after reconnect', { id, error: err.message })
      return
    }
    this.#outbox.ack(id)
    this.#published++
    if (this.#outbox.pending === 0) for (const w of this.#idleWaiters.splice(0)) w()
    this.#pump()
  }
}
