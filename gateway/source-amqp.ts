/** The gateway's AMQP source: competing consumers on a durable quorum queue bound to amq.topic, acked after commit. */
import amqp from 'amqplib'
import { Backoff } from '../messaging/backoff.js'
import { DaneelError } from '../src/errors.js'

/**
 * How nodes reach workers through RabbitMQ (docs/scale.md):
 * - A node publishes over MQTT 3.1.1 at QoS 1 to the topic named after our identity (a dotted DNS name). The
 *   MQTT plugin publishes it to the `amq.topic` exchange with the topic as routing key (RabbitMQ 3.10 keeps
 *   the dots; it would turn `/` into `.`).
 * - The queue is declared durable and `x-queue-type: quorum` (replicated over the cluster's nodes, survives
 *   losing a minority) and bound with our name as routing key. A publication that arrives before any queue is
 *   bound is dropped by the exchange: the gateway (or `rabbitmqadmin`) must declare the queue before nodes
 *   publish, which is why `start()` declares it before consuming. Declaring is idempotent.
 * - Every worker consumes the same queue: RabbitMQ gives each message to one consumer. `prefetch` bounds the
 *   unacknowledged messages per worker (the ingest's queue never holds more). A message is acknowledged only
 *   when the ingest calls `ack`, after its store transaction committed; a worker that dies leaves its
 *   unacknowledged messages to be redelivered to another, where the store's replay keys make them duplicates.
 * - Connection loss: reconnect with jittered backoff, trying the next URL of the list each time. An `ack` for a
 *   delivery of a channel that is gone does nothing (the broker redelivers that message anyway).
 */
export type OnMessage = (payload: Buffer, ack: () => void, live: () => boolean) => void

/** What a gateway source is: MQTT (the default) or AMQP; each delivery is acked after its commit. */
export interface MessageSource {
  start(onMessage: OnMessage): Promise<void>
  stop(): Promise<void>
}

/** The queue and binding a gateway consumes: declared (idempotently) before consuming and by `--declare-only`. */
async function declare(ch: amqp.Channel, queue: string, name: string): Promise<void> {
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
  await ch.bindQueue(queue, 'amq.topic', name)
}

export interface AmqpSourceOptions {
  /** Broker URLs (amqp:// or amqps://), tried in turn. */
  urls: readonly string[]
  /** Our identity name: the routing key nodes publish to (their MQTT topic). */
  name: string
  /** Queue name (default `daneel.<name>`). */
  queue?: string
  /** Unacknowledged deliveries per worker (default 256). */
  prefetch?: number
  backoff?: Backoff
  log?: (line: string) => void
  /** Told the count of delivered, unacknowledged messages on the current channel each time it changes. */
  onUnacked?: (n: number) => void
}

export interface AmqpSourceStats {
  connects: number
  disconnects: number
  deliveries: number
  redelivered: number
  acks: number
  /** Delivered and not yet acknowledged on the current channel. */
  unacked: number
  /** The URL of the current connection, if any. */
  url: string | undefined
}

/** `--source amqp://h:p[,amqp://h:p2…]`: the list, each checked. */
export function parseAmqpUrls(list: string): string[] {
  const urls = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (urls.length === 0) throw new DaneelError('ERR_CONFIG_INVALID', '--source: no AMQP URL given')
  for (const u of urls) {
    let parsed: URL
    try {
      parsed = new URL(u)
    } catch {
      throw new DaneelError('ERR_CONFIG_INVALID', `--source: ${JSON.stringify(u.replace(/:[^:@/]*@/, ':***@'))} is not a URL`)
    }
    if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:')
      throw new DaneelError('ERR_CONFIG_INVALID', `--source: expected amqp:// or amqps:// URLs, not ${parsed.protocol}//`)
  }
  return urls
}

const redact = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')

export class AmqpSource implements MessageSource {
  readonly queue: string
  readonly #o: AmqpSourceOptions
  readonly #backoff: Backoff
  readonly #log: (line: string) => void
  #conn: amqp.ChannelModel | undefined
  #pause: (() => Promise<void>) | undefined
  #onMessage: OnMessage | undefined
  #next = 0
  #stopped = false
  #timer: NodeJS.Timeout | undefined
  #s: AmqpSourceStats = { connects: 0, disconnects: 0, deliveries: 0, redelivered: 0, acks: 0, unacked: 0, url: undefined }

  constructor(o: AmqpSourceOptions) {
    if (o.urls.length === 0) throw new DaneelError('ERR_CONFIG_INVALID', 'AMQP source: no broker URL')
    this.#o = o
    this.queue = o.queue ?? `daneel.${o.name}`
    this.#backoff = o.backoff ?? new Backoff()
    this.#log = o.log ?? ((line) => process.stderr.write(`${line}\n`))
  }

  stats(): AmqpSourceStats {
    return { ...this.#s }
  }

  /** Whether a channel is consuming (what /healthz calls the broker being connected). */
  get connected(): boolean {
    return this.#conn !== undefined
  }

  get prefetch(): number {
    return this.#o.prefetch ?? 256
  }

  /**
   * Declares the queue and binding on the first URL that answers (each tried once) and disconnects: the setup
   * step before nodes publish (`daneel gateway --declare-only`). Resolves with that URL.
   */
  async declare(): Promise<string> {
    const errors: string[] = []
    for (const url of this.#o.urls) {
      let conn: amqp.ChannelModel | undefined
      try {
        conn = await amqp.connect(url, { timeout: 5000 })
        conn.on('error', () => undefined)
        await declare(await conn.createChannel(), this.queue, this.#o.name)
        await conn.close()
        return url
      } catch (err) {
        errors.push(`${redact(url)}: ${(err as Error).message}`)
        await conn?.close().catch(() => undefined)
      }
    }
    throw new DaneelError('ERR_AMQP', `no broker declared queue ${this.queue} (${errors.join('; ')})`)
  }

  /** Stops taking deliveries (cancels the consumer) and keeps the channel, so those in hand can still be acked. */
  async pause(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#pause?.().catch(() => undefined)
  }

  /** Resolves once the first connection consumes (retrying across the URLs until then). */
  async start(onMessage: OnMessage): Promise<void> {
    this.#onMessage = onMessage
    this.#stopped = false
    for (;;) {
      if (await this.#connect()) return
      if (this.#stopped) return
      await new Promise((r) => {
        this.#timer = setTimeout(r, this.#backoff.next())
      })
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    const c = this.#conn
    this.#conn = undefined
    await c?.close().catch(() => undefined)
  }

  /** One attempt on the next URL; true when consuming. */
  async #connect(): Promise<boolean> {
    const url = this.#o.urls[this.#next % this.#o.urls.length] as string
    this.#next++
    let conn: amqp.ChannelModel | undefined
    try {
      conn = await amqp.connect(url, { timeout: 5000 })
      const ch = await conn.createChannel()
      await ch.prefetch(this.prefetch)
      await declare(ch, this.queue, this.#o.name)
      let open = true
      const unacked = (by: number): void => {
        this.#s.unacked = by === 0 ? 0 : this.#s.unacked + by
        this.#o.onUnacked?.(this.#s.unacked)
      }
      const lost = (why: string): void => {
        if (!open) return
        open = false
        if (this.#conn === conn) this.#conn = undefined
        unacked(0) // the broker requeues them
        this.#s.url = undefined
        this.#s.disconnects++
        if (this.#stopped) return
        this.#log(`amqp source: connection to ${redact(url)} lost (${why}); reconnecting`)
        conn?.close().catch(() => undefined)
        this.#timer = setTimeout(() => void this.#reconnect(), this.#backoff.next())
      }
      conn.on('error', (err: Error) => lost(err.message))
      conn.on('close', () => lost('closed'))
      ch.on('error', (err: Error) => lost(`channel: ${err.message}`))
      ch.on('close', () => lost('channel closed'))
      const live = (): boolean => open
      const { consumerTag } = await ch.consume(
        this.queue,
        (msg) => {
          if (msg === null) return lost('consumer cancelled by the broker')
          this.#s.deliveries++
          if (msg.fields.redelivered) this.#s.redelivered++
          unacked(1)
          let done = false
          const ack = (): void => {
            if (done || !open) return // a delivery of a lost channel: the broker redelivers it
            done = true
            this.#s.acks++
            unacked(-1)
            ch.ack(msg)
          }
          ;(this.#onMessage as OnMessage)(msg.content, ack, live)
        },
        { noAck: false },
      )
      this.#pause = async () => {
        if (open) await ch.cancel(consumerTag)
      }
      this.#conn = conn
      this.#s.connects++
      this.#s.url = url
      this.#backoff.reset()
      this.#log(`amqp source: consuming ${this.queue} at ${redact(url)}`)
      return true
    } catch (err) {
      this.#log(`amqp source: ${redact(url)}: ${(err as Error).message}`)
      await conn?.close().catch(() => undefined)
      return false
    }
  }

  async #reconnect(): Promise<void> {
    if (this.#stopped || this.#conn !== undefined) return
    if (await this.#connect()) return
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#reconnect(), this.#backoff.next())
  }
}
