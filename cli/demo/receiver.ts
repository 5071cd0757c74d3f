/** The demo's receiver: subscribes to its own name, opens each sealed message (decrypt, DANE lookup, verify, claims, replay) and prints it. */
import type { KeyObject } from 'node:crypto'
import mqtt, { type MqttClient } from 'mqtt'
import type { Clock } from '../../src/clock.js'
import type { CryptoProvider } from '../../src/crypto/provider.js'
import type { PeerDirectory } from '../../src/dane/discover.js'
import { isDaneelError } from '../../src/errors.js'
import { createOpener, type OpenedMessage } from '../../src/message/open.js'
import { createReplayWindow } from '../../src/message/replay.js'

export interface ReceiverOptions {
  readonly name: string
  readonly key: KeyObject
  readonly provider: CryptoProvider
  readonly directory: PeerDirectory
  readonly trustedDomains: readonly string[]
  readonly mqttUrl: string
  readonly clock: Clock
  /** Called once per verified message, in arrival order. */
  onMessage(msg: OpenedMessage, receivedAt: number): void
  /** Called once per rejected message with the error code (the demo counts them). */
  onReject(code: string): void
}

export interface DemoReceiver {
  readonly ready: Promise<void>
  close(): Promise<void>
}

/**
 * Messages are opened one at a time in arrival order (a promise chain), so the printed order is the broker's.
 * A message that fails to open is counted and skipped: one bad message never stops the rest.
 */
export function startReceiver(opts: ReceiverOptions): DemoReceiver {
  const opener = createOpener({
    provider: opts.provider,
    recipientName: opts.name,
    recipientKey: opts.key,
    resolveSender: async (sender) => {
      const peer = await opts.directory.lookup(sender)
      return { spki: peer.spki, auth: peer.auth }
    },
    trustedDomains: opts.trustedDomains,
    clock: opts.clock,
    replay: createReplayWindow(),
  })
  // aedes speaks MQTT 3.1.1 only (platform.md §3.5).
  const client: MqttClient = mqtt.connect(opts.mqttUrl, { protocolVersion: 4, clientId: `demo-receiver-${process.pid}`, reconnectPeriod: 500, clean: true })
  let chain: Promise<void> = Promise.resolve()
  client.on('message', (_topic, payload) => {
    const receivedAt = opts.clock.now()
    chain = chain.then(async () => {
      try {
        opts.onMessage(await opener.open(payload), receivedAt)
      } catch (err) {
        opts.onReject(isDaneelError(err) ? err.code : 'ERR_INTERNAL')
      }
    })
  })
  const ready = new Promise<void>((resolve, reject) => {
    client.once('connect', () => {
      client.subscribe(opts.name, { qos: 1 }, (err) => (err ? reject(err) : resolve()))
    })
  })
  return {
    ready,
    async close(): Promise<void> {
      await chain
      await client.endAsync(true)
    },
  }
}
