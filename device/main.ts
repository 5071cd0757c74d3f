/** The device runtime's entry point (`daneel run`, and the daneel-device bundle): settings, identity, sensors, sealer, outbox, MQTT, loop. */
import { createHash, type KeyObject } from 'node:crypto'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { MqttLink } from '../messaging/mqtt.js'
import { openOutbox } from '../messaging/outbox.js'
import { OutboxSender } from '../messaging/sender.js'
import { openSequence, sequencePath } from '../messaging/sequence.js'
import { systemTimerClock, type TimerClock } from '../sensors/hal.js'
import { requireDaneId, resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS, type Settings } from '../settings/settings.js'
import { type Clock, systemClock } from '../src/clock.js'
import { getProvider } from '../src/crypto/get-provider.js'
import { createPeerDirectory, type PeerDirectory, type PeerIdentity, type TlsaSource } from '../src/dane/discover.js'
import type { PkixCd } from '../src/dane/pkix-cd.js'
import { DaneelError, INPUT_ERROR_CODES, isDaneelError } from '../src/errors.js'
import { loadIdentity } from '../src/identity/store.js'
import { createLogger, type Logger } from '../src/log.js'
import { createSealer } from '../src/message/seal.js'
import { type DeviceConfig, loadConfig } from './config.js'
import { type DeviceHal, openSensors } from './drivers.js'
import { installSignals, type RunningDevice, startDevice } from './runtime.js'
import { startWatchdog } from './watchdog.js'

export const RUN_HELP = `Usage: daneel run --config FILE [settings]

The device runtime: reads the sensors the config names, seals every reading to each recipient (JWS inside JWE,
keys found by DANE), stores it in the durable outbox and publishes it over MQTT at QoS 1 on the recipient's topic.
SIGTERM/SIGINT drain the outbox (for at most drainSeconds) and exit 0; SIGHUP reloads the config (a bad one is
logged and the running config kept). The config's schema: device/config-schema.md.

  --config FILE           the device config (JSON)
${SETTINGS_HELP}`

export interface DeviceDeps {
  /** Where TLSA records come from (src/dns/resolver.ts `createResolver(...)` on a device; the demo's own). */
  readonly tlsa: TlsaSource
  /** PKIX-CD for recipients in proven-insecure zones, or all of them with NO_DNSSEC (device/platform.ts builds it). */
  readonly pkixCd?: PkixCd
  /** Buses: device/hal-linux on a Pi; fakes in the demo. */
  readonly hal: DeviceHal
  readonly log?: Logger
  readonly clock?: Clock
  readonly timers?: TimerClock
  /** The sender's private key; default: `${CRYPTO_PATH}/${DANE_ID}.key.pem` (MISSION "Files"). */
  readonly senderKey?: KeyObject
  /** MQTT protocol version (aedes speaks 3.1.1 only). */
  readonly mqttProtocol?: 4 | 5
  /** Called with each publication the broker acknowledged (bench and demo measure with it). */
  readonly onFirstPublish?: () => void
  /** Called when releasing resources (e.g. close the resolver's sockets). */
  readonly onClosed?: () => Promise<void> | void
}

/** Failures that go away by themselves (DNS down at boot, clock not yet synced): worth waiting for at start-up. */
const TRANSIENT: ReadonlySet<string> = new Set([
  'ERR_DNS_TIMEOUT',
  'ERR_DNS_SERVFAIL',
  'ERR_DNSSEC_INDETERMINATE',
  'ERR_CLOCK_UNSYNCED',
  'ERR_PKIXCD_FETCH',
])

/**
 * A recipient's key. At start-up a transient failure is retried with jittered backoff (1 s doubling to 60 s, logged
 * once per distinct reason) instead of exiting, so a node that boots before its network does not crash-loop; a
 * permanent one (no TLSA record, bogus DNSSEC) fails at once with its code. On reload nothing is retried: the
 * running config stays.
 */
async function lookupPeer(directory: PeerDirectory, name: string, log: Logger, retry: boolean): Promise<PeerIdentity> {
  let delay = 1000
  let last = ''
  for (;;) {
    try {
      return await directory.lookup(name)
    } catch (err) {
      if (!retry || !isDaneelError(err) || !TRANSIENT.has(err.code)) throw err
      const why = `${err.code}: ${err.message}`
      if (why !== last) log.warn(`cannot look up recipient ${name} yet; retrying`, { error: why })
      last = why
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random() / 2)))
      delay = Math.min(60_000, delay * 2)
    }
  }
}

/** Starts the runtime for one config file. The caller installs signals (installSignals) or stops it itself. */
export async function startDeviceFromConfig(settings: Settings, configPath: string, deps: DeviceDeps): Promise<RunningDevice> {
  const log = deps.log ?? createLogger({ name: 'device' })
  const sender = requireDaneId(settings)
  const config = loadConfig(configPath)
  const clock = deps.clock ?? systemClock
  const timers = deps.timers ?? systemTimerClock
  const provider = getProvider(settings.cryptoProvider)
  const senderKey = deps.senderKey ?? loadIdentity(settings.cryptoPath, sender).privateKey
  const directory = createPeerDirectory({
    resolver: deps.tlsa,
    clock,
    noDnssec: settings.noDnssec,
    log,
    ...(deps.pkixCd === undefined ? {} : { pkixCd: deps.pkixCd }),
  })
  const outbox = await openOutbox(join(settings.stateDir, 'outbox'), { maxBytes: config.outboxMaxBytes, logger: log })
  const sequence = openSequence(sequencePath(settings.stateDir, sender), config.sequenceBlock)
  // A stable client id per identity (MQTT 3.1.1 servers must accept 23 characters; longer is broker-dependent).
  const clientId = `dn-${createHash('sha256').update(sender).digest('hex').slice(0, 20)}`
  const link = new MqttLink({
    url: settings.mqttUrl,
    clientId,
    logger: log,
    ...(deps.mqttProtocol === undefined ? {} : { protocolVersion: deps.mqttProtocol }),
  })
  const drainer = new OutboxSender(link, outbox, { logger: log })
  if (deps.onFirstPublish !== undefined) {
    const first = deps.onFirstPublish
    const poll = setInterval(() => {
      if (drainer.stats().published > 0) {
        clearInterval(poll)
        first()
      }
    }, 5)
    poll.unref()
  }
  link.start()
  let started = false
  try {
    const dev = await startDevice({
      sender,
      config,
      outbox,
      transport: { stop: () => link.stop() },
      sequence,
      clock,
      timers,
      log,
      openSensors: (c: DeviceConfig) =>
        openSensors(c, deps.hal, timers, (id, err) =>
          log.warn(`sensor ${id}: bus not available; retrying with backoff`, { error: err instanceof Error ? err.message : String(err) }),
        ),
      sealerFor: async (name: string, c: DeviceConfig) => {
        const peer = await lookupPeer(directory, name, log, !started)
        return createSealer({ provider, senderName: sender, senderKey, recipientName: name, recipientSpki: peer.spki, profile: c.profile })
      },
      reloadConfig: () => loadConfig(configPath),
      ...(deps.onClosed === undefined ? {} : { onClosed: deps.onClosed }),
    })
    started = true
    return dev
  } catch (err) {
    await link.stop().catch(() => {})
    sequence.close()
    await outbox.close().catch(() => {})
    throw err
  }
}

/** The platform's parts: the validating resolver and the Linux HAL. Loaded lazily so tests and the demo never touch hardware. */
export async function platformDeps(settings: Settings, log: Logger): Promise<DeviceDeps> {
  const { linuxDeps } = await import('./platform.js')
  return linuxDeps(settings, log)
}

/** `daneel run` and the bundle's entry: parse, start, drain on SIGTERM; resolves with the exit status. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const options = { ...SETTINGS_OPTIONS, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; strict: true; allowPositionals: false }>>
  try {
    parsed = parseArgs({
      args: argv,
      options,
      strict: true,
      allowPositionals: false,
    })
  } catch (err) {
    throw new DaneelError('ERR_USAGE', `${(err as Error).message}\n${RUN_HELP}`)
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${RUN_HELP}\n`)
    return 0
  }
  const configPath = parsed.values.config
  if (configPath === undefined) throw new DaneelError('ERR_USAGE', `--config FILE is required\n${RUN_HELP}`)
  const settings = resolveSettings(parsed.values, env)
  const log = createLogger({ name: 'device' })
  // Input errors first (config, identity), before anything touches the network or hardware.
  loadConfig(configPath)
  const senderKey = loadIdentity(settings.cryptoPath, requireDaneId(settings)).privateKey
  const dev = await startDeviceFromConfig(settings, configPath, { ...(await platformDeps(settings, log)), senderKey })
  // Under systemd (Type=notify, WatchdogSec=): ready once running; pings while the event loop and sampling live.
  const watchdog = startWatchdog({ env, log })
  watchdog.ready()
  return new Promise<number>((resolve) =>
    installSignals(dev, log, (code) => {
      watchdog.stopping()
      resolve(code)
    }),
  )
}

const entry = process.argv[1] ?? ''
if (/(?:^|[\\/])(?:device[\\/]main\.js|daneel-device(?:\.[cm]?js)?)$/.test(entry)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      // cli/main.ts's reportError, repeated: importing the CLI would pull every command into the device bundle.
      if (err instanceof DaneelError) {
        process.stderr.write(`daneel: ${err.message} [${err.code}]\n`)
        process.exitCode = INPUT_ERROR_CODES.has(err.code) ? 2 : 1
      } else {
        process.stderr.write(`daneel: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
        process.exitCode = 1
      }
    },
  )
}
