/** The receiving pipeline (`daneel listen`, the gateway): open, deliver to a sink, record the replay, then acknowledge, in order. */

import { createHash } from 'node:crypto'
import type { PeerDirectory } from '../src/dane/discover.js'
import { DaneelError, isDaneelError, isTemporary } from '../src/errors.js'
import { type Logger, silentLogger } from '../src/log.js'
import type { OpenedMessage, Opener, ResolvedSender, SenderResolver } from '../src/message/open.js'
import { isTrustedSender } from '../src/message/x5u.js'
import { Backoff, type BackoffOptions, realTimers, type Timers } from './backoff.js'
import type { MqttLink } from './mqtt.js'
import { OpenPace } from './open-pace.js'
import { writePuback } from './publish-frame.js'

/*
 * The rule: a message is acknowledged only once its outcome is durable. That is either
 * - delivered: the sink resolved (listen: its JSON line was flushed to stdout; the gateway: its batch committed)
 *   AND its (sender, seq) was recorded by the replay guard, in that order, so a number is never "seen" for a
 *   message whose output failed; or
 * - rejected for a permanent reason (bad crypto, untrusted sender, replay, malformed, too large: src/errors.ts
 *   `isTemporary` is false).
 * A temporary failure (DNS down, clock not synced, ENOSPC on the replay journal, an internal error) is retried
 * with backoff (backoff.ts) and never acknowledged while failing. Messages taken but not yet acknowledged are
 * bounded by `window`: once it is full, `push` does not resolve, the MQTT client is not told to go on, and it
 * reads nothing more (TCP backpressure to the broker, which keeps the rest queued for our session).
 * Acknowledgements go out in the order the messages came (MQTT 3.1.1 §4.6 and 5.0 §4.6: PUBACKs in the order
 * of the PUBLISH packets): a finished message waits for those before it.
 * A copy of a message still in the pipeline (a redelivery after a reconnect) joins the first one instead of
 * being opened again: one output, both acknowledged when it is durable.
 * Kill -9 at any moment loses nothing: an unacknowledged message is redelivered; one written but not yet
 * recorded is printed again (at-least-once to the sink), one recorded is refused as a replay and acknowledged.
 */

/** Where opened messages go. `deliver` resolves once the output is durable; rejects with a temporary error to be retried. */
export interface ReceiverSink {
  deliver(m: OpenedMessage, raw: Uint8Array, receivedAt: number): Promise<void>
}

/**
 * The replay guard's write half (the opener judged with `deferReplay`): returns (or resolves) once the record is
 * durable, throws (or rejects with) ERR_IO when it cannot persist.
 */
export interface ReplayRecorder {
  record(sender: string, seq: number): void | Promise<void>
}

export interface ReceiverOptions {
  /** An opener created with `deferReplay: true` when `replay` is given. */
  opener: Opener
  sink: ReceiverSink
  replay?: ReplayRecorder
  maxMessageSize: number
  /** Messages in process at once (opened, being delivered); default measured: open-pace.ts states the rule. */
  concurrency?: number | undefined
  /** Messages taken but not yet acknowledged, at most (default 1,024). */
  window?: number
  /** Retry delays of a temporary failure (default 200 ms doubling to 30 s, full jitter). */
  backoff?: BackoffOptions
  timers?: Timers
  now?: () => number
  logger?: Logger
}

export interface ReceiverStats {
  received: number
  opened: number
  delivered: number
  acked: number
  rejected: Record<string, number>
  /** Temporary failures by code (each retry counts). */
  retried: Record<string, number>
  /** Taken, not yet acknowledged. */
  pending: number
  inFlight: number
  /** Times `push` held the flow because the window was full. */
  held: number
  duplicatesJoined: number
}

interface Entry {
  payload: Buffer
  key: string
  receivedAt: number
  acks: (() => void)[]
  finished: boolean
}

export class Receiver {
  readonly #opts: ReceiverOptions
  readonly #log: Logger
  readonly #now: () => number
  readonly #timers: Timers
  readonly #concurrency: number | undefined
  readonly #pace = new OpenPace()
  readonly #window: number
  /** Entries in arrival order, until acknowledged. */
  #order: Entry[] = []
  #byKey = new Map<string, Entry>()
  #waiting: Entry[] = []
  #room: (() => void)[] = []
  #active = 0
  #idle: (() => void)[] = []
  #stopped = false
  /** One backoff for the receiver: a fault (DNS, disk) is shared by every message, so the delay grows for all. */
  #backoff: Backoff
  #failingSince: number | undefined
  #s: ReceiverStats = {
    received: 0,
    opened: 0,
    delivered: 0,
    acked: 0,
    rejected: {},
    retried: {},
    pending: 0,
    inFlight: 0,
    held: 0,
    duplicatesJoined: 0,
  }

  constructor(opts: ReceiverOptions) {
    this.#opts = opts
    this.#log = opts.logger ?? silentLogger
    this.#now = opts.now ?? Date.now
    this.#timers = opts.timers ?? realTimers
    this.#concurrency = opts.concurrency === undefined ? undefined : Math.max(1, opts.concurrency)
    this.#window = Math.max(1, opts.window ?? 1024)
    this.#backoff = new Backoff({ baseMs: 200, capMs: 30_000, minMs: 50, ...opts.backoff })
  }

  stats(): ReceiverStats {
    return {
      ...this.#s,
      rejected: { ...this.#s.rejected },
      retried: { ...this.#s.retried },
      pending: this.#order.length,
      inFlight: this.#active,
    }
  }

  /**
   * Takes one message; `ack` runs once its outcome is durable, after every earlier message's. The promise
   * resolves when the caller may take the next message (at once unless the window is full).
   */
  push(payload: Buffer, ack: () => void): Promise<void> {
    this.#s.received++
    const key = createHash('sha256').update(payload).digest('base64')
    const twin = this.#byKey.get(key)
    if (twin !== undefined && !twin.finished) {
      // a redelivery of a message still in the pipeline: acknowledged with it, in its own place in the order
      this.#s.duplicatesJoined++
      const e: Entry = { payload, key, receivedAt: this.#now(), acks: [ack], finished: false }
      this.#order.push(e)
      twin.acks.push(() => {
        e.finished = true
        this.#flush()
      })
      return this.#roomFor()
    }
    const e: Entry = { payload, key, receivedAt: this.#now(), acks: [ack], finished: false }
    this.#order.push(e)
    this.#byKey.set(key, e)
    if (payload.length > this.#opts.maxMessageSize) this.#finish(e, 'ERR_MESSAGE_TOO_LARGE')
    else {
      this.#waiting.push(e)
      this.#pump()
    }
    return this.#roomFor()
  }

  /** Resolves when every message taken so far is acknowledged (or `stop` was called and nothing runs). */
  idle(): Promise<void> {
    if (this.#order.length === 0 || (this.#stopped && this.#active === 0)) return Promise.resolve()
    return new Promise((r) => this.#idle.push(r))
  }

  /** Stops opening and retrying: what is not durable yet stays unacknowledged (the broker redelivers it). */
  stop(): void {
    this.#stopped = true
    this.#waiting = []
    this.#checkIdle()
  }

  #roomFor(): Promise<void> {
    if (this.#order.length < this.#window) return Promise.resolve()
    this.#s.held++
    return new Promise((r) => this.#room.push(r))
  }

  #pump(): void {
    // an opener without a synchronous path yields at each open, holding no turn: 8 at once, as before the rule
    const limit = this.#concurrency ?? (this.#opts.opener.openNow === undefined ? 8 : this.#pace.limit())
    while (!this.#stopped && this.#active < limit && this.#waiting.length > 0) {
      const e = this.#waiting.shift() as Entry
      this.#active++
      this.#s.inFlight = this.#active
      void this.#process(e).finally(() => {
        this.#active--
        this.#pump()
        this.#checkIdle()
      })
    }
  }

  /** Open, deliver, record: each stage retried on a temporary failure, never repeated once it succeeded. */
  async #process(e: Entry): Promise<void> {
    let opened: OpenedMessage | undefined
    let delivered = false
    for (;;) {
      if (this.#stopped) return
      try {
        if (opened === undefined) {
          opened = await this.#open(withoutNewline(e.payload))
          this.#s.opened++
        }
        if (!delivered) {
          await this.#opts.sink.deliver(opened, e.payload, e.receivedAt)
          delivered = true
          this.#s.delivered++
        }
        if (this.#opts.replay !== undefined && opened.seq !== undefined) {
          const journaled = this.#opts.replay.record(opened.from, opened.seq)
          if (journaled !== undefined) await journaled // a group-committed journal: acknowledged once written
        }
        this.#recovered()
        this.#finish(e)
        return
      } catch (err) {
        if (!isTemporary(err)) {
          this.#recovered()
          const code = (err as DaneelError).code
          this.#log.debug('message rejected', { code, cause: String((err as Error).cause ?? '') })
          this.#finish(e, code)
          return
        }
        await this.#retryAfter(err)
      }
    }
  }

  /** The opener, synchronous when it can be (a cached sender key): those opens are timed for the pace. */
  #open(payload: Buffer): OpenedMessage | Promise<OpenedMessage> {
    const opener = this.#opts.opener
    if (opener.openNow === undefined) return opener.open(payload)
    const t0 = performance.now()
    const r = opener.openNow(payload)
    if (!(r instanceof Promise)) this.#pace.record(performance.now() - t0)
    return r
  }

  /** Counts a temporary failure, logs the first of a streak (then at most each minute), waits the backoff. */
  #retryAfter(err: unknown): Promise<void> {
    const code = isDaneelError(err) ? err.code : 'ERR_INTERNAL'
    this.#s.retried[code] = (this.#s.retried[code] ?? 0) + 1
    const now = this.#now()
    if (this.#failingSince === undefined || now - this.#failingSince >= 60_000) {
      this.#failingSince = now
      const detail = { code, error: String(err), cause: String((err as Error).cause ?? ''), pending: this.#order.length }
      if (code === 'ERR_INTERNAL') this.#log.error('internal error on a message: retrying, not acknowledged', detail)
      else this.#log.warn('temporary failure: retrying, not acknowledged', detail)
    }
    const delay = this.#backoff.next()
    return new Promise((r) => this.#timers.setTimeout(r, delay))
  }

  #recovered(): void {
    if (this.#failingSince !== undefined) {
      this.#failingSince = undefined
      this.#log.info('recovered: messages flow again', { pending: this.#order.length })
    }
    this.#backoff.reset()
  }

  #finish(e: Entry, rejected?: string): void {
    if (rejected !== undefined) this.#s.rejected[rejected] = (this.#s.rejected[rejected] ?? 0) + 1
    e.finished = true
    if (this.#byKey.get(e.key) === e) this.#byKey.delete(e.key)
    const twins = e.acks.splice(1)
    for (const t of twins) t()
    this.#flush()
  }

  /** Acknowledges finished messages from the head of the order, and lets the flow go on when there is room. */
  #flush(): void {
    while (this.#order.length > 0 && (this.#order[0] as Entry).finished) {
      const e = this.#order.shift() as Entry
      this.#s.acked++
      ;(e.acks[0] as () => void)()
    }
    while (this.#room.length > 0 && this.#order.length < this.#window) (this.#room.shift() as () => void)()
    this.#checkIdle()
  }

  #checkIdle(): void {
    if (this.#order.length === 0 || (this.#stopped && this.#active === 0)) for (const r of this.#idle.splice(0)) r()
  }
}

/** A sealed message followed by one newline (`daneel seal` output published as is) opens as `daneel open` takes it. */
function withoutNewline(b: Buffer): Buffer {
  if (b.length === 0 || b[b.length - 1] !== 0x0a) return b
  return b.subarray(0, b.length >= 2 && b[b.length - 2] === 0x0d ? b.length - 2 : b.length - 1)
}

/**
 * resolveSender for the opener, over the DANE peer directory (which caches by TTL and coalesces lookups).
 * It refuses names outside TRUSTED_DOMAINS itself too: no lookup is ever made for an untrusted sender,
 * even if an opener forgot its own check.
 */
export function directoryResolver(directory: PeerDirectory, trustedDomains: readonly string[]): SenderResolver {
  const resolve = async (name: string): Promise<ResolvedSender> => {
    if (!isTrustedSender(name, trustedDomains)) throw new DaneelError('ERR_SENDER_UNTRUSTED', 'sender not trusted')
    const peer = await directory.lookup(name)
    // every published key: during a sender's rollover its TLSA RRset holds the current and the next one
    return { spki: peer.spki, spkis: peer.spkis, auth: peer.auth }
  }
  // A fresh cached answer as is (a PeerIdentity is a ResolvedSender): the opener's synchronous path. Trusted names
  // only here too, though the opener checks first: a directory shared with other callers may hold other names.
  const cached = directory.peek?.bind(directory)
  if (cached === undefined) return resolve
  return Object.assign(resolve, { peek: (name: string) => (isTrustedSender(name, trustedDomains) ? cached(name) : undefined) })
}

/** MQTT.js goes on to the next packet without a PUBACK when handleMessage's callback gets an error (handlers/publish.js). */
const GO_ON_WITHOUT_PUBACK = new Error('acknowledged by the receiver once durable')

/**
 * Subscribes `receiver` to `topic` on every CONNACK and routes each publication through it. The PUBACK is sent
 * by us once the receiver says the message is durable, on the connection it came in on only: after a
 * reconnect the broker redelivers what we did not acknowledge, and a late PUBACK must not hit a packet
 * identifier the broker has since given to another message.
 */
export function attachReceiver(link: MqttLink, topic: string, receiver: Receiver, log: Logger = silentLogger): void {
  let connection = 0
  link.on('up', () => {
    const client = link.client
    const mine = ++connection
    client.handleMessage = (packet, done) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
      const id = packet.messageId
      const ack = (): void => {
        if (packet.qos === 0 || id === undefined || connection !== mine || !client.connected) return
        if (!writePuback(client, id)) log.debug('PUBACK not sent: connection gone', { id })
      }
      void receiver.push(payload, ack).then(() => done(packet.qos === 0 ? undefined : GO_ON_WITHOUT_PUBACK))
    }
    client.subscribe(topic, { qos: 1 }, (err) => {
      if (err) log.error('subscribe failed', { topic, error: err.message })
      else log.info('subscribed', { topic })
    })
  })
  link.on('down', () => {
    connection++
  })
}
