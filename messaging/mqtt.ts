/** The MQTT link: MQTT.js at QoS 1 with reconnects driven by our backoff, MQTT 5 session expiry, TLS/auth, a last will. */
import { EventEmitter } from 'node:events'
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt'
import mqttPacket from 'mqtt-packet'
import { DaneelError } from '../src/errors.js'
import { type Logger, silentLogger } from '../src/log.js'
import { Backoff, realTimers, type Timers } from './backoff.js'

/*
 * Choices, each against a known MQTT.js pitfall (MQTT.js 5 README "Client" options and the issues cited):
 * - reconnectPeriod 0: MQTT.js's reconnect is a fixed interval with no backoff; we reconnect after a
 *   full-jitter backoff (messaging/backoff.ts) so a fleet does not storm a restarted broker.
 * - queueQoSZero false: its offline QoS 0 queue is unbounded RAM. We publish only while connected, and our
 *   own outbox (messaging/outbox.ts) holds everything else.
 * - clean false + sessionExpiryInterval (MQTT 5): the broker keeps a receiver's subscription and queues its
 *   messages across a disconnect or a broker restart. A broker that refuses MQTT 5 gets 3.1.1 (no expiry).
 * - MQTT.js's in-flight store is emptied on every disconnect (see OutboxSender): our outbox decides what is
 *   sent again, so nothing relies on MQTT.js replaying its store one message per round trip.
 * - maximumPacketSize (MQTT 5, §3.1.2.11.4): the broker "MUST NOT send packets exceeding Maximum Packet Size to
 *   the Client" and discards them instead. Without it one 250 MB publication on our topic took `listen` from 92 to
 *   594 MB RSS: MQTT.js buffers a whole packet before anything can look at its size. We announce
 *   mqttMaximumPacketSize(MAX_MESSAGE_SIZE), so a message our opener would refuse anyway never crosses the wire to
 *   us (Mosquitto 2.0 drops it and carries on with the session: test/messaging/mqtt-packet-size.test.ts). A 3.1.1
 *   broker cannot be told; the receiver's own size check is then the only bound.
 */

/*
 * mqtt-packet (MQTT.js's encoder) by default fills a cache of every two-byte number, 0 to 65,535, each a Buffer of
 * its own, at the first packet it writes, and keeps it for the life of the process: 65,536 objects, 6.3 MB of heap
 * (a heap snapshot of the running device bundle: 6.2 of its 13.7 MB). Off, each packet id or topic length is a
 * 2-byte Buffer made when it is written (from the pool); our own PUBLISH and PUBACK frames (publish-frame.ts,
 * the receiver's writePuback) do not go through it at all. `writeToStream.cacheNumbers` is mqtt-packet's documented
 * switch; it must be set before the first packet, so it is set here, where every link is made.
 */
mqttPacket.writeToStream.cacheNumbers = false

/**
 * Room for everything in a PUBLISH besides the payload: fixed header 5 bytes (type + a remaining length of up to 4
 * bytes, §2.1.4), topic 2 + 253 bytes (our topics are DNS names, at most 253 octets: RFC 1035 §2.3.4), packet id
 * 2 bytes, and properties the broker forwards or adds (§3.3.2.3: payload format, expiry, subscription identifiers,
 * a few user properties). 1 KiB covers them with room to spare; a publisher piling on more is not one of ours.
 */
export const MQTT_HEADER_ROOM = 1024

/** The MQTT 5 Maximum Packet Size we announce for messages of at most `maxMessageSize` bytes. */
export function mqttMaximumPacketSize(maxMessageSize: number): number {
  if (!Number.isSafeInteger(maxMessageSize) || maxMessageSize < 1)
    throw new RangeError(`maxMessageSize must be a positive whole number, not ${maxMessageSize}`)
  // the field is a four-byte integer, and no MQTT packet exceeds 268,435,460 bytes (§2.1.4, 1.5.5)
  return Math.min(maxMessageSize + MQTT_HEADER_ROOM, 268_435_460)
}
export interface MqttLinkOptions {
  /** One broker URL, or several separated by commas (a cluster): a failed or lost connection tries the next. */
  url: string
  clientId: string
  username?: string | undefined
  password?: string | undefined
  /**
   * MAX_MESSAGE_SIZE: the largest message we accept. The broker is told (MQTT 5 maximumPacketSize) and drops
   * anything larger instead of sending it to us. Required: every client we create is bounded.
   */
  maxMessageSize: number
  /** PEM: CA to verify the broker (mqtts://); client certificate and key for TLS client authentication. */
  ca?: string | Buffer | undefined
  cert?: string | Buffer | undefined
  key?: string | Buffer | undefined
  /** Session kept by the broker this long after a disconnect (MQTT 5; default one day). 0: clean sessions. */
  sessionExpirySeconds?: number
  /** Retained 'online' on connect, retained 'offline' as the last will (default: none). */
  statusTopic?: string | undefined
  /** MQTT 5 will delay: a reconnect within this many seconds announces nothing (default 5). */
  willDelaySeconds?: number
  keepaliveSeconds?: number
  protocolVersion?: 4 | 5
  backoff?: Backoff
  timers?: Timers
  logger?: Logger
}

export interface MqttLinkStats {
  connects: number
  disconnects: number
  connectErrors: number
  protocolVersion: number
}

/** CONNACK refusals for credentials: 3.1.1 codes 4 (bad user name or password) and 5 (not authorised), MQTT 5 0x86 and 0x87. */
const AUTH_REFUSED: ReadonlySet<number> = new Set([4, 5, 0x86, 0x87])

/**
 * Events: 'up' (CONNACK, with the packet), 'down' (connection lost or closed), 'refused' (the broker refused the
 * credentials; the link keeps retrying with backoff, its owner decides whether to give up).
 */
export class MqttLink extends EventEmitter {
  readonly #opts: MqttLinkOptions
  readonly #backoff: Backoff
  readonly #timers: Timers
  readonly #log: Logger
  #client: MqttClient | undefined
  #retry: unknown
  #stopped = false
  #up = false
  #version: 4 | 5
  #lastRefusal = ''
  #s: MqttLinkStats = { connects: 0, disconnects: 0, connectErrors: 0, protocolVersion: 5 }
  readonly #urls: string[]
  #at = 0
  /** This attempt got a CONNACK / failed at the socket (refused, unreachable) rather than being hung up on. */
  #attemptUp = false
  #attemptSocketError = false
  /** MQTT 5 CONNECTs in a row the broker hung up on without a CONNACK. */
  #hangUps = 0
  /** The broker's receiveMaximum (MQTT 5 CONNACK), else undefined. */
  receiveMaximum: number | undefined

  constructor(opts: MqttLinkOptions) {
    super()
    this.#urls = opts.url
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '')
    if (this.#urls.length === 0) throw new DaneelError('ERR_CONFIG_INVALID', 'no MQTT URL given')
    for (const u of this.#urls)
      if (!/^(mqtts?|tcp|ssl|wss?):\/\//.test(u)) throw new DaneelError('ERR_CONFIG_INVALID', `not an MQTT URL: ${u}`)
    mqttMaximumPacketSize(opts.maxMessageSize) // RangeError now for a missing or nonsensical bound, not at connect
    this.#opts = opts
    this.#backoff = opts.backoff ?? new Backoff()
    this.#timers = opts.timers ?? realTimers
    this.#log = opts.logger ?? silentLogger
    this.#version = opts.protocolVersion ?? 5
  }

  get connected(): boolean {
    return this.#up && this.#client?.connected === true
  }

  get client(): MqttClient {
    if (this.#client === undefined) throw new DaneelError('ERR_MQTT', 'MQTT link not started')
    return this.#client
  }

  stats(): MqttLinkStats {
    return { ...this.#s, protocolVersion: this.#version }
  }

  /** The broker URL in use (or tried next). */
  get url(): string {
    return this.#urls[this.#at] as string
  }

  start(): void {
    if (this.#client !== undefined) return
    const client = mqtt.connect(this.url, this.#clientOptions())
    this.#client = client
    client.on('connect', (ack: IConnackPacket) => this.#onConnect(ack))
    client.on('close', () => this.#onClose())
    client.on('error', (err: Error & { code?: number }) => {
      this.#s.connectErrors++
      if (typeof err.code === 'string') this.#attemptSocketError = true // ECONNREFUSED, ETIMEDOUT, ...
      // CONNACK "unsupported protocol version" (3.1.1 code 1, MQTT 5 code 0x84): fall back to 3.1.1 once
      if (this.#version === 5 && (err.code === 1 || err.code === 0x84)) {
        this.#log.warn('broker refuses MQTT 5; using 3.1.1 (no session expiry, no packet-size limit at the broker)')
        this.#version = 4
        Object.assign(client.options, this.#clientOptions())
      } else if (AUTH_REFUSED.has(err.code ?? -1)) {
        // Bad credentials do not fix themselves: one clear line per distinct refusal, and 'refused' for the owner.
        if (err.message !== this.#lastRefusal)
          this.#log.error('the broker refused our credentials', { url: this.#opts.url, error: err.message })
        this.#lastRefusal = err.message
        this.emit('refused', err)
      } else {
        this.#log.warn('mqtt error', { error: err.message })
      }
    })
  }

  /** Publishes retained 'offline' ourselves (a clean stop sends no will), then disconnects. */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#timers.clearTimeout(this.#retry)
    const client = this.#client
    if (client === undefined) return
    if (this.connected && this.#opts.statusTopic !== undefined) {
      await client.publishAsync(this.#opts.statusTopic, 'offline', { qos: 1, retain: true }).catch(() => {})
    }
    await client.endAsync(!client.connected)
  }

  #clientOptions(): IClientOptions {
    const o = this.#opts
    const expiry = o.sessionExpirySeconds ?? 86_400
    const v5 = this.#version === 5
    const opts: IClientOptions = {
      clientId: o.clientId,
      protocolVersion: this.#version,
      reconnectPeriod: 0,
      queueQoSZero: false,
      clean: v5 ? expiry === 0 : false,
      keepalive: o.keepaliveSeconds ?? 30,
      // a PINGREQ every keepalive interval whatever else flows, instead of a timer reset on every packet received
      // (that reset was 0.5 KB of allocation per message; the broker's keepalive check is met either way)
      reschedulePings: false,
      connectTimeout: 10_000,
      resubscribe: true,
      rejectUnauthorized: true,
    }
    if (v5) opts.properties = { sessionExpiryInterval: expiry, maximumPacketSize: mqttMaximumPacketSize(o.maxMessageSize) }
    if (o.username !== undefined) opts.username = o.username
    if (o.password !== undefined) opts.password = o.password
    if (o.ca !== undefined) opts.ca = o.ca
    if (o.cert !== undefined) opts.cert = o.cert
    if (o.key !== undefined) opts.key = o.key
    if (o.statusTopic !== undefined) {
      opts.will = { topic: o.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true }
      // MQTT 5: wait a few seconds before announcing 'offline', so a quick reconnect does not flap
      if (v5) opts.will.properties = { willDelayInterval: o.willDelaySeconds ?? 5 }
    }
    return opts
  }

  #onConnect(ack: IConnackPacket): void {
    this.#up = true
    this.#lastRefusal = ''
    this.#attemptUp = true
    this.#s.connects++
    this.#backoff.reset()
    this.receiveMaximum = ack.properties?.receiveMaximum
    this.#log.info('mqtt connected', { url: this.url, sessionPresent: ack.sessionPresent, protocolVersion: this.#version })
    if (this.#opts.statusTopic !== undefined) {
      this.client.publish(this.#opts.statusTopic, 'online', { qos: 1, retain: true }, () => {})
    }
    this.emit('up', ack)
  }

  #onClose(): void {
    if (this.#up) {
      this.#up = false
      this.#s.disconnects++
      // our own end() closes it too: that is a clean stop, not a lost connection
      if (this.#stopped) this.#log.debug('mqtt connection closed')
      else this.#log.warn('mqtt connection lost')
    }
    this.emit('down')
    if (this.#stopped) return
    this.#nextBroker()
    this.#timers.clearTimeout(this.#retry)
    const delay = this.#backoff.next()
    this.#retry = this.#timers.setTimeout(() => {
      if (!this.#stopped) this.#client?.reconnect()
    }, delay)
  }

  /**
   * After a connection ended: a broker that hung up twice in a row on our MQTT 5 CONNECT without a CONNACK
   * (RabbitMQ 3.10's MQTT plugin cannot parse one and closes the socket) gets 3.1.1 next, on the same URL. Otherwise, with
   * several URLs, the next attempt goes to the next broker (a lost or refused connection says this one is down).
   */
  #nextBroker(): void {
    const client = this.#client
    const hungUp = !this.#attemptUp && !this.#attemptSocketError
    this.#attemptUp = false
    this.#attemptSocketError = false
    if (client === undefined) return
    this.#hangUps = hungUp ? this.#hangUps + 1 : 0
    // twice in a row, so one slow or flapping MQTT 5 broker is not downgraded for good
    if (this.#hangUps >= 2 && this.#version === 5) {
      this.#log.warn('broker closed the connection on an MQTT 5 CONNECT; using 3.1.1 (no session expiry)', { url: this.url })
      this.#version = 4
      Object.assign(client.options, this.#clientOptions())
      return
    }
    if (this.#urls.length < 2) return
    this.#at = (this.#at + 1) % this.#urls.length
    const u = new URL(this.url)
    const protocol = u.protocol.slice(0, -1)
    const secure = protocol === 'mqtts' || protocol === 'ssl' || protocol === 'wss'
    const hostname = u.hostname.replace(/^\[(.*)\]$/, '$1')
    const port = u.port !== '' ? Number(u.port) : protocol.startsWith('ws') ? (secure ? 443 : 80) : secure ? 8883 : 1883
    Object.assign(client.options, { protocol, hostname, host: hostname, port, ...(protocol.startsWith('ws') ? { path: u.pathname } : {}) })
    this.#log.info('mqtt: trying the next broker', { url: this.url })
  }
}
