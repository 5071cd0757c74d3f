/** The gateway, wired: source (MQTT or AMQP) → opener → sink → group commit → store; HTTP, metrics and Home Assistant after each commit. */
import { MqttLink, type MqttLinkOptions } from '../messaging/mqtt.js'
import { directoryResolver } from '../messaging/receiver.js'
import { createPeerTrust } from '../settings/peers.js'
import type { Settings } from '../settings/settings.js'
import { systemClock } from '../src/clock.js'
import { getProvider } from '../src/crypto/get-provider.js'
import { decryptionKeys } from '../src/identity/rollover.js'
import { loadIdentity } from '../src/identity/store.js'
import type { Logger } from '../src/log.js'
import type { DigestGuard } from '../src/message/legacy.js'
import { createOpener } from '../src/message/open.js'
import type { ReplayGuard } from '../src/message/replay.js'
import { HaPublisher } from './ha-publisher.js'
import { createGatewayHttp, type GatewayHttp } from './http/server.js'
import { Ingest } from './ingest.js'
import { gatewayMetrics } from './metrics.js'
import { defaultOpenWorkers, startOpenWorkers } from './open-workers.js'
import { GatewaySink } from './sink.js'
import { createSource, type GatewaySource, type SourceSpec } from './source.js'
import type { IncomingMessage, ReadingRow } from './store/types.js'
import { createStore } from './store/url.js'

export interface GatewayOptions {
  settings: Settings
  /** Our identity name (the topic). */
  me: string
  storeUrl: string
  mqtt: Omit<MqttLinkOptions, 'clientId' | 'logger'>
  clientId: string
  /** MQTT: `$share/GROUP/<name>` when set. */
  share?: string | undefined
  /** `--source`: MQTT (the default) or AMQP (gateway/source.ts). */
  source?: SourceSpec | undefined
  http?: { host: string; port: number } | undefined
  httpToken?: string | undefined
  /** Home Assistant's broker (discovery + state), optional. */
  homeassistant?: { url: string; prefix?: string | undefined } | undefined
  /** Oldest accepted message, ms. */
  maxAgeMs: number
  batchSize?: number
  maxDelayMs?: number
  /** Worker threads that open messages (`--open-workers`; default gateway/open-workers.ts `defaultOpenWorkers`). */
  openWorkers?: number | undefined
  version: string
  log: Logger
}

export interface Gateway {
  readonly ingest: Ingest
  readonly source: GatewaySource
  readonly http: GatewayHttp | undefined
  /** The bound HTTP address, when serving. */
  readonly httpAddress: { host: string; port: number } | undefined
  health(): { ok: boolean; [k: string]: unknown }
  /** Commits what is queued (and acknowledges it while still connected), then disconnects and closes everything. */
  stop(): Promise<void>
}

/**
 * The opener's replay guard, for the gateway: UNIQUE(node, seq) in the store is the durable one. A guard that
 * remembered a message before its commit would refuse the broker's redelivery after a crash: a lost reading.
 */
const STORE_IS_THE_REPLAY_GUARD: ReplayGuard = { check: () => true }
/**
 * The same for unbound messages (LEGACY_DOMAINS): their digest in the store's `legacy_digests`, claimed in the
 * transaction that stores them, is the durable guard; a byte-exact replay becomes a duplicate there.
 */
const STORE_IS_THE_DIGEST_GUARD: DigestGuard = { check: () => true }

/**
 * Devices whose keys one gateway worker keeps (DNS answer, peer directory, imported key): a fleet larger than the
 * caches would evict a device to admit another, costing a DNS lookup on every reading. About 2 KiB each
 * (`npm run bench:fleet`, docs/scale.md), so at most some 130 MB of heap; past it the least recently heard go first.
 */
export const GATEWAY_MAX_PEERS = 65_536

export function rowOf(m: IncomingMessage): ReadingRow {
  return {
    node: m.node,
    seq: m.seq,
    time: new Date(m.time).toISOString(),
    receivedAt: new Date(m.receivedAt).toISOString(),
    auth: m.auth,
    bound: m.bound,
    sensor: m.sensor,
    model: m.model,
    values: m.values,
  }
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const { settings, me, log } = o
  const recipientKey = loadIdentity(settings.cryptoPath, me).privateKey // first: a missing identity opens no store
  const recipientKeys = decryptionKeys(settings.cryptoPath, me).slice(1)
  const store = await createStore(o.storeUrl)
  await store.open()
  const metrics = gatewayMetrics()
  const ingest = new Ingest({
    store,
    metrics,
    ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
    ...(o.maxDelayMs === undefined ? {} : { maxDelayMs: o.maxDelayMs }),
    log: (line) => log.warn(line),
  })
  const opener = createOpener({
    provider: getProvider(settings.cryptoProvider),
    recipientName: me,
    recipientKey,
    recipientKeys,
    resolveSender: directoryResolver(createPeerTrust(settings, { log, maxPeers: GATEWAY_MAX_PEERS }).directory, settings.trustedDomains),
    keyCacheSize: GATEWAY_MAX_PEERS,
    trustedDomains: settings.trustedDomains,
    maxMessageSize: settings.maxMessageSize,
    clock: systemClock,
    maxAgeMs: o.maxAgeMs,
    replay: STORE_IS_THE_REPLAY_GUARD,
    legacyDomains: settings.legacyDomains,
    unboundReplay: STORE_IS_THE_DIGEST_GUARD,
  })

  // Opens across cores: the same opener per worker thread (open-worker.ts builds it from these settings: keep its
  // options in step with `opener` above); counters, order and acks stay here (open-workers.ts).
  const workers = o.openWorkers ?? defaultOpenWorkers()
  const pool = workers > 0 ? startOpenWorkers({ workers, settings, me, recipientKey, recipientKeys, maxAgeMs: o.maxAgeMs, log }) : undefined
  if (pool !== undefined) log.info('opening on worker threads', { workers })

  let http: GatewayHttp | undefined
  let ha: HaPublisher | undefined
  let haLink: MqttLink | undefined
  const sink = new GatewaySink({
    ingest,
    onStored: (m) => {
      if (m.status !== undefined || (http === undefined && ha === undefined)) return
      const row = rowOf(m)
      http?.publish(row)
      ha?.reading(row)
    },
  })
  const source = createSource(o.source ?? { kind: 'mqtt' }, {
    me,
    share: o.share,
    mqtt: o.mqtt,
    clientId: o.clientId,
    opener: pool ?? opener,
    // off the main thread an open holds no turn: enough in flight to cover a worker's round trip (bench:gateway-opens)
    ...(pool === undefined ? {} : { concurrency: pool.size * 64 }),
    sink,
    maxMessageSize: settings.maxMessageSize,
    metrics,
    log,
  })
  let storeOpen = true
  const health = (): { ok: boolean; [k: string]: unknown } => {
    const broker = source.connected()
    return { ok: storeOpen && broker && ingest.failing === 0, store: storeOpen && ingest.failing === 0, broker, queue: ingest.depth }
  }

  if (o.homeassistant !== undefined) {
    haLink = new MqttLink({
      url: o.homeassistant.url,
      clientId: `${o.clientId}-ha`.slice(0, 128),
      sessionExpirySeconds: 0,
      maxMessageSize: 65536,
      logger: log,
    })
    ha = new HaPublisher(haLink, {
      version: o.version,
      ...(o.homeassistant.prefix === undefined ? {} : { prefix: o.homeassistant.prefix }),
    })
    haLink.start()
  }
  let httpAddress: { host: string; port: number } | undefined
  if (o.http !== undefined) {
    http = createGatewayHttp({
      store,
      health,
      metrics: () => metrics.registry.render(),
      ...(o.httpToken === undefined ? {} : { token: o.httpToken }),
      log,
    })
    try {
      httpAddress = await http.listen(o.http.host, o.http.port)
    } catch (err) {
      await pool?.close()
      await store.close()
      throw err
    }
    log.info('http listening', httpAddress)
  }
  source.start()

  return {
    ingest,
    source,
    http,
    httpAddress,
    health,
    async stop() {
      // stop taking messages, acknowledge what is queued while the connection is still up, then disconnect
      await source.pause()
      await Promise.race([ingest.flush(), new Promise((r) => setTimeout(r, 5000).unref())])
      await source.close()
      await ingest.close()
      await pool?.close()
      storeOpen = false
      await store.close()
      await http?.close()
      await haLink?.stop().catch(() => {})
    },
  }
}
