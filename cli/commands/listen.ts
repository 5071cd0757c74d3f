/** `daneel listen`: subscribe to our name (or `$share/GROUP/<name>`), open each message, print authenticated ones as JSON lines. */
import { hostname } from 'node:os'
import { join } from 'node:path'
import { openDigestStore } from '../../messaging/digest-store.js'
import { jsonLineSink } from '../../messaging/line-sink.js'
import { MqttLink, type MqttLinkOptions } from '../../messaging/mqtt.js'
import { attachReceiver, directoryResolver, Receiver } from '../../messaging/receiver.js'
import { openReplayStore } from '../../messaging/replay-store.js'
import { peerDirectory } from '../../settings/peers.js'
import { requireDaneId, resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS, type Settings, topicFor } from '../../settings/settings.js'
import { systemClock } from '../../src/clock.js'
import { getProvider } from '../../src/crypto/get-provider.js'
import { DaneelError } from '../../src/errors.js'
import { decryptionKeys } from '../../src/identity/rollover.js'
import { loadIdentity } from '../../src/identity/store.js'
import { readPrivateKeyFile } from '../../src/key-file.js'
import { createLogger } from '../../src/log.js'
import { createOpener, DEFAULT_MAX_AGE_MS } from '../../src/message/open.js'
import { MAX_PEM_FILE_BYTES, readFileBounded } from '../../src/read-file.js'
import { parseCommand, usageError } from '../args.js'

export const summary = 'receive, open and print authenticated messages as JSON lines'

/** MQTT TLS and authentication flags (send and listen). The password comes from MQTT_PASSWORD or the URL only. */
export const MQTT_OPTIONS = {
  'mqtt-username': { type: 'string' }, // MQTT_USERNAME
  'mqtt-ca': { type: 'string' }, // MQTT_CA: PEM file to verify the broker (mqtts://)
  'mqtt-cert': { type: 'string' }, // MQTT_CERT: client certificate (PEM) for TLS client authentication
  'mqtt-key': { type: 'string' }, // MQTT_KEY: its private key (PEM)
} as const

export const MQTT_HELP = `MQTT authentication (flag, or environment variable):
  --mqtt-username USER    MQTT_USERNAME (the password: MQTT_PASSWORD, or in MQTT_URL; never a flag)
  --mqtt-ca FILE          MQTT_CA: CA certificate (PEM) to verify the broker on mqtts://
  --mqtt-cert FILE        MQTT_CERT: client certificate (PEM) for TLS client authentication
  --mqtt-key FILE         MQTT_KEY: the client certificate's private key (PEM)`

const HELP = `Usage: daneel listen [--share GROUP] [--stats SECONDS] [--count N] [options]

Subscribes to our identity name (DANE_ID) at QoS 1 and prints one JSON line per authenticated message:
{"from","claims" (as received),"reading" (the r claim; or an older device's members beside the claims), or
"payload" (bytes, base64url, and "payloadText" when it is UTF-8),"auth" (dnssec or pkix-cd),"receivedAt"}; always JSON
(--json changes nothing). Senders must be under TRUSTED_DOMAINS (checked before any DNS lookup); replays are refused
across restarts (DANEEL_STATE/replay). A message is acknowledged to the broker only once its line was written
and its number recorded, or once it was rejected for good; a temporary fault (DNS, clock, disk) is retried
and holds the flow (at-least-once to stdout: a line written just before a crash may be printed again).
Output closed by the reader (EPIPE): exit 0, acknowledging nothing unwritten.
Messages without claims (the original system's, the DEF CON 29 workshop's) only from senders under
LEGACY_DOMAINS; the same bytes again within 24 h are refused (digests in DANEEL_STATE/replay/unbound.digests).
With GROUP_NAME (--group-name) the topic is GROUP_NAME/<name>, as the original receivers subscribe.
Counters (received, opened, rejected by reason) go to stderr as JSON every --stats seconds and on SIGUSR1.

  --share GROUP       subscribe to $share/GROUP/<name>: receivers in one group split the messages
  --stats SECONDS     print counters every SECONDS
  --count N           exit 0 after N messages were opened
  --client-id ID      MQTT client id (default: stable per host, name and group; the broker keeps its session)
  --concurrency N     messages in process at once (default: measured, as many opens as fit 2 ms, 2 to 64)
  --max-age SECONDS   oldest accepted message from a sender the replay guard holds no state for (default
                      691200: a week-long outage + a day); a sequence number judged new is accepted up to
                      that retention however small --max-age is
  --json              accepted for uniformity: the output is always JSON lines

${MQTT_HELP}

${SETTINGS_HELP}`

const OPTIONS = {
  ...SETTINGS_OPTIONS,
  ...MQTT_OPTIONS,
  share: { type: 'string' },
  stats: { type: 'string' },
  count: { type: 'string' },
  'client-id': { type: 'string' },
  concurrency: { type: 'string' },
  'max-age': { type: 'string' },
  json: { type: 'boolean' },
} as const

export function wholeNumber(value: string | undefined, flag: string, dflt: number, min = 1): number {
  if (value === undefined) return dflt
  if (!/^\d{1,9}$/.test(value) || Number(value) < min)
    throw new DaneelError('ERR_USAGE', `${flag} must be a whole number >= ${min}, not '${value}'`)
  return Number(value)
}

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (path === undefined || path === '') return undefined
  return readFileBounded(path, { maxBytes: MAX_PEM_FILE_BYTES, what })
}

/** MqttLink options from settings plus the MQTT auth flags/env. */
export function mqttOptions(
  settings: Settings,
  values: { [K in keyof typeof MQTT_OPTIONS]?: string },
  env: NodeJS.ProcessEnv,
): Omit<MqttLinkOptions, 'clientId'> {
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? (env[name] === '' ? undefined : env[name])
  const keyPath = pick(values['mqtt-key'], 'MQTT_KEY')
  return {
    url: settings.mqttUrl,
    username: pick(values['mqtt-username'], 'MQTT_USERNAME'),
    password: env.MQTT_PASSWORD === '' ? undefined : env.MQTT_PASSWORD,
    ca: readPem(pick(values['mqtt-ca'], 'MQTT_CA'), 'MQTT CA'),
    cert: readPem(pick(values['mqtt-cert'], 'MQTT_CERT'), 'MQTT client certificate'),
    key: keyPath === undefined || keyPath === '' ? undefined : readPrivateKeyFile(keyPath, 'MQTT client key'),
    maxMessageSize: settings.maxMessageSize,
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, HELP)
  if (parsed === undefined) return 0
  const { values } = parsed
  if (parsed.positionals.length > 0) throw usageError(HELP, `unexpected argument '${parsed.positionals[0]}'`)
  const settings = resolveSettings(values, process.env)
  const me = requireDaneId(settings)
  const group = values.share
  if (group !== undefined && !/^[^/+#$\s]+$/.test(group))
    throw new DaneelError('ERR_USAGE', `--share GROUP must not contain / + # $ or spaces: '${group}'`)
  const statsEvery = values.stats === undefined ? 0 : wholeNumber(values.stats, '--stats', 0, 1)
  const count = values.count === undefined ? undefined : wholeNumber(values.count, '--count', 0, 1)
  const log = createLogger({ name: 'listen' })
  if (settings.trustedDomains.length === 0) log.warn('TRUSTED_DOMAINS is empty: every sender will be rejected')

  const directory = peerDirectory(settings, log)
  const recipientKey = loadIdentity(settings.cryptoPath, me).privateKey // first: a missing identity creates no state dir
  // during our own key rollover, peers may encrypt to the next or the previous key too
  const recipientKeys = decryptionKeys(settings.cryptoPath, me).slice(1)
  const replay = openReplayStore(join(settings.stateDir, 'replay'))
  const unboundReplay = settings.legacyDomains.length > 0 ? openDigestStore(join(settings.stateDir, 'replay')) : undefined
  const opener = createOpener({
    provider: getProvider(settings.cryptoProvider),
    recipientName: me,
    recipientKey,
    recipientKeys,
    resolveSender: directoryResolver(directory, settings.trustedDomains),
    trustedDomains: settings.trustedDomains,
    maxMessageSize: settings.maxMessageSize,
    clock: systemClock,
    maxAgeMs: wholeNumber(values['max-age'], '--max-age', DEFAULT_MAX_AGE_MS / 1000) * 1000,
    replay,
    deferReplay: true,
    legacyDomains: settings.legacyDomains,
    ...(unboundReplay === undefined ? {} : { unboundReplay }),
  })
  let outputClosed: () => void = () => {}
  const closed = new Promise<void>((resolve) => {
    outputClosed = resolve
  })
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') log.error('stdout', { error: err.message })
  })
  const receiver = new Receiver({
    opener,
    sink: jsonLineSink(process.stdout, () => outputClosed()),
    replay,
    maxMessageSize: settings.maxMessageSize,
    concurrency: values.concurrency === undefined ? undefined : wholeNumber(values.concurrency, '--concurrency', 1),
    logger: log,
  })
  const clientId = values['client-id'] ?? `daneel-${hostname()}-${me}${group === undefined ? '' : `-${group}`}`.slice(0, 128)
  const link = new MqttLink({ ...mqttOptions(settings, values, process.env), clientId, logger: log })
  const topic = topicFor(settings, me)
  attachReceiver(link, group === undefined ? topic : `$share/${group}/${topic}`, receiver, log)

  const printStats = (): void => {
    // With node --expose-gc (benchmarks), memory is measured after a full collection: growth, not garbage.
    const gc = (globalThis as { gc?: () => void }).gc
    if (gc !== undefined) gc()
    const { rss, heapUsed } = process.memoryUsage()
    process.stderr.write(
      `${JSON.stringify({ stats: { ...receiver.stats(), replaySenders: replay.senders, mqtt: link.stats(), memory: { rss, heapUsed } } })}\n`,
    )
  }
  const timer = statsEvery > 0 ? setInterval(printStats, statsEvery * 1000) : undefined
  process.on('SIGUSR1', printStats)
  link.start()

  let poll: NodeJS.Timeout | undefined
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
    void closed.then(resolve)
    if (count !== undefined) poll = setInterval(() => receiver.stats().delivered >= count && resolve(), 10)
  })
  clearInterval(poll)
  if (timer !== undefined) clearInterval(timer)
  // Let what is in the pipeline become durable and be acknowledged, then disconnect; the rest is redelivered.
  await Promise.race([receiver.idle(), closed, new Promise((r) => setTimeout(r, 5000))])
  receiver.stop()
  await link.stop().catch(() => {})
  await replay.close().catch((err: unknown) => log.error('replay state not folded at exit', { error: String(err) }))
  unboundReplay?.close()
  printStats()
  process.removeListener('SIGUSR1', printStats)
  return 0
}
