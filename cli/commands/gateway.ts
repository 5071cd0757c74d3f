/** `daneel gateway`: receive, open and store every verified reading exactly once; serve the API, metrics and dashboard. */
import { hostname } from 'node:os'
import { startGateway } from '../../gateway/run.js'
import { DEFAULT_PREFETCH, parseSource } from '../../gateway/source.js'
import { AmqpSource } from '../../gateway/source-amqp.js'
import { defaultStoreUrl } from '../../gateway/store/url.js'
import { requireDaneId, resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS } from '../../settings/settings.js'
import { DaneelError } from '../../src/errors.js'
import { createLogger } from '../../src/log.js'
import { parseCommand, usageError } from '../args.js'
import { MQTT_HELP, MQTT_OPTIONS, mqttOptions, wholeNumber } from './listen.js'

export const summary = 'store every verified reading exactly once; serve a dashboard, a JSON API and metrics'

const HELP = `Usage: daneel gateway [--store URL] [--http HOST:PORT] [--source mqtt|amqp://HOST:PORT,…] [options]

Subscribes to our identity name (DANE_ID) at QoS 1 with a persistent session, opens every message as
'daneel listen' does (TRUSTED_DOMAINS, DANE, audience and time), and stores each verified reading exactly once:
a message is acknowledged to the broker only after the transaction holding it committed, and UNIQUE(node, seq)
turns a redelivery into a duplicate. Messages without claims (the original system's, the DEF CON 29 workshop's)
only from senders under LEGACY_DOMAINS, stored with bound=false; the same bytes again within 30 days are a
duplicate (their digest is kept in the store). Runs until SIGTERM or SIGINT (exit 0).

With --source amqp://…, it consumes the durable quorum queue daneel.<DANE_ID> bound on amq.topic with
DANE_ID as routing key (where RabbitMQ's MQTT plugin puts the nodes' publications), declaring both at start.
An exchange drops what no queue is bound for: declare before nodes publish (a first start, or --declare-only).

  --store URL            DANEEL_STORE: sqlite:PATH (default sqlite:$DANEEL_STATE/readings.db)
  --http HOST:PORT       DANEEL_HTTP: serve /healthz, /api/nodes, /api/readings(.csv), /metrics, /events, /
  --http-token TOKEN     DANEEL_HTTP_TOKEN: require 'Authorization: Bearer TOKEN' (needed to bind beyond loopback)
  --source SRC           DANEEL_SOURCE: mqtt (MQTT_URL, the default) or amqp[s]://HOST:PORT[,…] (tried in turn):
                         competing consumers of one queue, each message to one gateway
  --prefetch N           AMQP: deliveries held unacknowledged at most (default ${DEFAULT_PREFETCH})
  --declare-only         AMQP: declare the queue and its binding, then exit 0 (the setup step before nodes publish)
  --share GROUP          MQTT: subscribe to $share/GROUP/<name>: gateways in one group split the messages
  --homeassistant URL    DANEEL_HOMEASSISTANT: publish Home Assistant discovery (retained) and state to this broker
  --homeassistant-prefix P  HA's discovery prefix (default homeassistant)
  --client-id ID         MQTT client id (default: stable per host, name and group; the broker keeps its session)
  --max-age SECONDS      oldest accepted message (default 86400: the store, not a time window, stops replays)
  --batch N              messages per transaction, at most (default 128)
  --open-workers N       worker threads that open messages (default: 0 on 1-2 cores, else cores - 1: a worker
                         only pays when a core is left for MQTT and the commits; 0 opens on the main thread)

${MQTT_HELP}

${SETTINGS_HELP}`

const OPTIONS = {
  ...SETTINGS_OPTIONS,
  ...MQTT_OPTIONS,
  store: { type: 'string' },
  http: { type: 'string' },
  'http-token': { type: 'string' },
  share: { type: 'string' },
  source: { type: 'string' },
  prefetch: { type: 'string' },
  'declare-only': { type: 'boolean' },
  homeassistant: { type: 'string' },
  'homeassistant-prefix': { type: 'string' },
  'client-id': { type: 'string' },
  'max-age': { type: 'string' },
  batch: { type: 'string' },
  'open-workers': { type: 'string' },
} as const

/** `HOST:PORT` or `[V6]:PORT`. */
export function parseHostPort(value: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value)
  const port = Number(m?.[3])
  if (m === null || !(port >= 0 && port <= 65535)) throw new DaneelError('ERR_USAGE', `${what} must be HOST:PORT, not '${value}'`)
  return { host: (m[1] ?? m[2]) as string, port }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, HELP)
  if (parsed === undefined) return 0
  const { values } = parsed
  if (parsed.positionals.length > 0) throw usageError(HELP, `unexpected argument '${parsed.positionals[0]}'`)
  const openWorkers = values['open-workers'] === undefined ? undefined : wholeNumber(values['open-workers'], '--open-workers', 0, 0)
  const env = process.env
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? (env[name] === '' ? undefined : env[name])
  const settings = resolveSettings(values, env)
  const me = requireDaneId(settings)
  const group = values.share
  if (group !== undefined && !/^[^/+#$\s]+$/.test(group))
    throw new DaneelError('ERR_USAGE', `--share GROUP must not contain / + # $ or spaces: '${group}'`)
  const source = parseSource(pick(values.source, 'DANEEL_SOURCE'), wholeNumber(values.prefetch, '--prefetch', DEFAULT_PREFETCH))
  if (source.kind === 'mqtt' && (values.prefetch !== undefined || values['declare-only'] === true))
    throw new DaneelError('ERR_USAGE', '--prefetch and --declare-only need --source amqp://…')
  if (source.kind === 'amqp' && group !== undefined)
    throw new DaneelError('ERR_USAGE', '--share is for MQTT: AMQP workers of one queue always split the messages')
  const log = createLogger({ name: 'gateway' })
  if (source.kind === 'amqp' && values['declare-only'] === true) {
    const amqp = new AmqpSource({ urls: source.urls, name: me, log: (line) => log.warn(line) })
    const url = await amqp.declare()
    const at = url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
    process.stdout.write(`declared quorum queue ${amqp.queue}, bound on amq.topic with routing key ${me}, at ${at}\n`)
    return 0
  }
  const httpRaw = pick(values.http, 'DANEEL_HTTP')
  const http = httpRaw === undefined ? undefined : parseHostPort(httpRaw, '--http (DANEEL_HTTP)')
  const haUrl = pick(values.homeassistant, 'DANEEL_HOMEASSISTANT')
  if (haUrl !== undefined && !/^(mqtts?|tcp|ssl|wss?):\/\//.test(haUrl))
    throw new DaneelError('ERR_USAGE', `--homeassistant must be an MQTT URL, not '${haUrl}'`)
  if (settings.trustedDomains.length === 0) log.warn('TRUSTED_DOMAINS is empty: every sender will be rejected')

  const gateway = await startGateway({
    settings,
    me,
    storeUrl: pick(values.store, 'DANEEL_STORE') ?? defaultStoreUrl(settings.stateDir),
    mqtt: mqttOptions(settings, values, env),
    clientId: values['client-id'] ?? `daneel-gw-${hostname()}-${me}${group === undefined ? '' : `-${group}`}`.slice(0, 128),
    share: group,
    source,
    http,
    httpToken: pick(values['http-token'], 'DANEEL_HTTP_TOKEN'),
    homeassistant: haUrl === undefined ? undefined : { url: haUrl, prefix: values['homeassistant-prefix'] },
    maxAgeMs: wholeNumber(values['max-age'], '--max-age', 86_400) * 1000,
    batchSize: wholeNumber(values.batch, '--batch', 128),
    openWorkers,
    version: '0.1.0',
    log,
  })
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
  })
  await gateway.stop()
  const m = gateway.ingest.metrics
  log.info('stopped', { stored: m.stored.get(), duplicates: m.duplicates.get(), source: gateway.source.stats() })
  return 0
}
