/** The demo's receiver: the `daneel listen` pipeline (messaging/receiver.ts over an MqttLink) subscribed to its own name, its JSON lines handed to the printer. */
import type { KeyObject } from 'node:crypto'
import { jsonLineSink } from '../../messaging/line-sink.js'
import { MqttLink } from '../../messaging/mqtt.js'
import { attachReceiver, directoryResolver, Receiver } from '../../messaging/receiver.js'
import { DEFAULT_MAX_MESSAGE_SIZE } from '../../settings/settings.js'
import type { Clock } from '../../src/clock.js'
import type { CryptoProvider } from '../../src/crypto/provider.js'
import type { PeerDirectory } from '../../src/dane/discover.js'
import type { Logger } from '../../src/log.js'
import { createOpener } from '../../src/message/open.js'
import { createReplayWindow } from '../../src/message/replay.js'

/** One verified message as `daneel listen` prints it (from, claims and reading, or payload, auth, receivedAt). */
export interface ListenLine {
  from: string
  claims?: Record<string, unknown>
  reading?: Record<string, unknown>
  payload?: string
  auth: string
  receivedAt: string
}

export interface ReceiverOptions {
  readonly name: string
  readonly key: KeyObject
  readonly provider: CryptoProvider
  readonly directory: PeerDirectory
  readonly trustedDomains: readonly string[]
  readonly mqttUrl: string
  readonly clock: Clock
  readonly log: Logger
  /** Called once per verified message, in the pipeline's output order. */
  onMessage(line: ListenLine): void
}

export interface DemoReceiver {
  readonly ready: Promise<void>
  /** Messages rejected, by error code (the pipeline's counters). */
  rejected(): Record<string, number>
  close(): Promise<void>
}

export function startReceiver(opts: ReceiverOptions): DemoReceiver {
  const opener = createOpener({
    provider: opts.provider,
    recipientName: opts.name,
    recipientKey: opts.key,
    resolveSender: directoryResolver(opts.directory, opts.trustedDomains),
    trustedDomains: opts.trustedDomains,
    clock: opts.clock,
    replay: createReplayWindow(),
  })
  // The pipeline writes JSON lines to a stream; here the "stream" parses them back for the printer.
  const out = {
    write(line: string, cb: () => void): boolean {
      opts.onMessage(JSON.parse(line) as ListenLine)
      cb()
      return true
    },
  }
  const receiver = new Receiver({ opener, sink: jsonLineSink(out), maxMessageSize: 16384, logger: opts.log })
  // aedes speaks MQTT 3.1.1 only (moscajs/aedes README).
  const link = new MqttLink({
    url: opts.mqttUrl,
    clientId: `demo-receiver-${process.pid}`,
    protocolVersion: 4,
    maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
    logger: opts.log,
  })
  const ready = new Promise<void>((resolve, reject) => {
    link.once('up', () => {
      const client = link.client
      const onPacket = (p: { cmd: string }): void => {
        if (p.cmd !== 'suback') return
        client.off('packetreceive', onPacket)
        resolve()
      }
      client.on('packetreceive', onPacket)
    })
    setTimeout(() => reject(new Error('the demo receiver did not subscribe within 10 s')), 10_000).unref()
  })
  attachReceiver(link, opts.name, receiver, opts.log)
  link.start()
  return {
    ready,
    rejected: () => receiver.stats().rejected,
    async close(): Promise<void> {
      await receiver.idle()
      await link.stop()
    },
  }
}
