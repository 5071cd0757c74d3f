/** Where the gateway reads from: `--source` (MQTT, the default, or a RabbitMQ cluster over AMQP), parsed and built. */
import { MqttLink, type MqttLinkOptions } from '../messaging/mqtt.js'
import { DaneelError } from '../src/errors.js'
import type { Logger } from '../src/log.js'
import type { Opener } from '../src/message/open.js'
import { AmqpReceiver } from './amqp-receiver.js'
import type { GatewayMetrics } from './metrics.js'
import { MqttSource } from './mqtt-source.js'
import type { ReceiverSink } from './sink.js'
import { AmqpSource, parseAmqpUrls } from './source-amqp.js'

/**
 * `--source` (env DANEEL_SOURCE): unset or `mqtt` reads MQTT_URL as the device runtime does (the default); a
 * list of `amqp://` / `amqps://` URLs consumes the durable quorum queue `daneel.<name>` bound on `amq.topic`
 * (gateway/source-amqp.ts, docs/scale.md), with `prefetch` deliveries unacknowledged at most.
 */
export type SourceSpec = { kind: 'mqtt' } | { kind: 'amqp'; urls: string[]; prefetch: number }

export const DEFAULT_PREFETCH = 256

export function parseSource(value: string | undefined, prefetch = DEFAULT_PREFETCH): SourceSpec {
  if (!(Number.isInteger(prefetch) && prefetch >= 1 && prefetch <= 65535))
    throw new DaneelError('ERR_USAGE', `--prefetch must be a whole number from 1 to 65535, not '${prefetch}'`)
  if (value === undefined || value === 'mqtt') return { kind: 'mqtt' }
  if (/^amqps?:\/\//.test(value.trim())) return { kind: 'amqp', urls: parseAmqpUrls(value), prefetch }
  throw new DaneelError('ERR_USAGE', `--source must be 'mqtt' or amqp:// URLs, not '${value.replace(/:[^:@/]*@/, ':***@')}'`)
}

/** What the gateway needs of its source, whichever it is. */
export interface GatewaySource {
  readonly kind: SourceSpec['kind']
  /** Connected and taking messages (what /healthz calls the broker). */
  connected(): boolean
  start(): void
  /** Takes no more messages; those in hand can still be acknowledged. */
  pause(): Promise<void>
  close(): Promise<void>
  stats(): object
}

export interface SourceDeps {
  /** Our identity name (topic and routing key). */
  me: string
  /** MQTT only: `$share/GROUP/<name>` when set. */
  share?: string | undefined
  mqtt: Omit<MqttLinkOptions, 'clientId' | 'logger'>
  clientId: string
  opener: Opener
  /** Opens in flight at once (default 8; more when they run on worker threads). */
  concurrency?: number
  sink: ReceiverSink
  maxMessageSize: number
  metrics: GatewayMetrics
  log: Logger
}

export function createSource(spec: SourceSpec, d: SourceDeps): GatewaySource {
  const onRejected = (code: string): void => d.metrics.rejected.inc(1, code)
  if (spec.kind === 'amqp') {
    const registry = d.metrics.registry
    registry.gauge('daneel_amqp_prefetch', 'Deliveries a worker may hold unacknowledged (the channel prefetch).').set(spec.prefetch)
    const unacked = registry.gauge('daneel_amqp_unacked', 'Deliveries held unacknowledged: being opened or waiting for their commit.')
    const source = new AmqpSource({
      urls: spec.urls,
      name: d.me,
      prefetch: spec.prefetch,
      log: (line) => d.log.warn(line),
      onUnacked: (n) => unacked.set(n),
    })
    const receiver = new AmqpReceiver({
      source,
      opener: d.opener,
      ...(d.concurrency === undefined ? {} : { concurrency: d.concurrency }),
      sink: d.sink,
      maxMessageSize: d.maxMessageSize,
      onRejected,
      logger: d.log,
    })
    return {
      kind: 'amqp',
      connected: () => source.connected,
      start: () => void receiver.start().then(() => source.connected && d.log.info('consuming', { queue: source.queue })),
      pause: () => receiver.pause(),
      close: () => receiver.close(),
      stats: () => receiver.stats(),
    }
  }
  const link = new MqttLink({ ...d.mqtt, clientId: d.clientId, logger: d.log })
  let subscribed = false
  const source = new MqttSource({
    link,
    topic: d.share === undefined ? d.me : `$share/${d.share}/${d.me}`,
    opener: d.opener,
    ...(d.concurrency === undefined ? {} : { concurrency: d.concurrency }),
    sink: d.sink,
    maxMessageSize: d.maxMessageSize,
    onRejected,
    onSubscribed: () => {
      subscribed = true
    },
    logger: d.log,
  })
  link.on('down', () => {
    subscribed = false
  })
  return {
    kind: 'mqtt',
    connected: () => link.connected && subscribed,
    start: () => link.start(),
    pause: async () => undefined, // PUBACKs go out on this connection while the ingest flushes
    close: () => link.stop().catch(() => undefined),
    stats: () => source.stats(),
  }
}
