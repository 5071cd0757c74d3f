/** `daneel gateway`: receive, open and store every verified reading exactly once; serve the API, metrics and dashboard. */
import { hostname } from 'node:os'
import { startGateway } from '../../gateway/run.js'
import { defaultStoreUrl } from '../../gateway/store/url.js'
import { requireDaneId, resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS } from '../../settings/settings.js'
import { DaneelError } from '../../src/errors.js'
import { createLogger } from '../../src/log.js'
import { parseCommand, usageError } from '../args.js'
import { MQTT_HELP, MQTT_OPTIONS, mqttOptions, wholeNumber } from './listen.js'

export const summary = 'store every verified reading exactly once; serve a dashboard, a JSON API and metrics'

const HELP = `Usage: daneel gateway [--store URL] [--http HOST:PORT] [--share GROUP] [options]

Subscribes to our identity name (DANE_ID) at QoS 1 with a persistent session, opens every message as
'daneel listen' does (TRUSTED_DOMAINS, DANE, audience and time), and stores each verified reading exactly once:
a message is acknowledged to the broker only after the transaction holding it committed, and UNIQUE(node, seq)
turns a redelivery into a duplicate. Runs until SIGTERM or SIGINT (exit 0).

  --store URL            DANEEL_STORE: sqlite:PATH (default sqlite:$DANEEL_STATE/readings.db)
  --http HOST:PORT       DANEEL_HTTP: serve /healthz, /api/nodes, /api/readings(.csv), /metrics, /events, /
  --http-token TOKEN     DANEEL_HTTP_TOKEN: require 'Authorization: Bearer TOKEN' (needed to bind beyond loopback)
  --share GROUP          subscribe to $share/GROUP/<name>: gateways in one group split the messages
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
  const httpRaw = pick(values.http, 'DANEEL_HTTP')
  const http = httpRaw === undefined ? undefined : parseHostPort(httpRaw, '--http (DANEEL_HTTP)')
  const haUrl = pick(values.homeassistant, 'DANEEL_HOMEASSISTANT')
  if (haUrl !== undefined && !/^(mqtts?|tcp|ssl|wss?):\/\//.test(haUrl))
    throw new DaneelError('ERR_USAGE', `--homeassistant must be an MQTT URL, not '${haUrl}'`)
  const log = createLogger({ name: 'gateway' })
  if (settings.trustedDomains.length === 0) log.warn('TRUSTED_DOMAINS is empty: every sender will be rejected')

  const gateway = await startGateway({
    settings,
    me,
    storeUrl: pick(values.store, 'DANEEL_STORE') ?? defaultStoreUrl(settings.stateDir),
    mqtt: mqttOptions(settings, values, env),
    clientId: values['client-id'] ?? `daneel-gw-${hostname()}-${me}${group === undefined ? '' : `-${group}`}`.slice(0, 128),
    share: group,
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
