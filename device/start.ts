/** Starts the device runtime from narrow settings and a config file: identity, sensors, sealer, outbox, MQTT, loop (cli/commands/run.ts is `daneel run`). */
import { createHash, type KeyObject } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Backoff } from '../messaging/backoff.js'
import { MqttLink, type MqttLinkOptions } from '../messaging/mqtt.js'
import { openOutbox } from '../messaging/outbox.js'
import { OutboxSender } from '../messaging/sender.js'
import { openSequence, sequencePath } from '../messaging/sequence.js'
import { systemTimerClock, type TimerClock } from '../sensors/hal.js'
import type { Settings } from '../settings/settings.js'
import { type Clock, systemClock } from '../src/clock.js'
import { getProvider } from '../src/crypto/get-provider.js'
import { createPeerDirectory, type PeerDirectory, type PeerIdentity, type TlsaSource } from '../src/dane/discover.js'
import type { PkixCd } from '../src/dane/pkix-cd.js'
import { DaneelError, isDaneelError } from '../src/errors.js'
import { loadIdentity } from '../src/identity/store.js'
import { createLogger, type Logger } from '../src/log.js'
import { createSealer } from '../src/message/seal.js'
import { type DeviceConfig, loadConfig } from './config.js'
import { type DeviceHal, openSensors } from './drivers.js'
import { type BootClock, HELD_FILE, HeldStore, systemBootClock } from './held-store.js'
import { startJournal } from './journal.js'
import { LASER_HOURS_FILE, LaserHours } from './laser-hours.js'
import { installSignals, type RunningDevice, startDevice } from './runtime.js'
import { presenceTopic } from './status.js'
import { startWatchdog } from './watchdog.js'

/**
 * What the runtime needs from the settings (settings/settings.ts resolves them from flags and environment): the
 * identity, where its key and state live, the broker, and how recipients are authenticated.
 */
export type DeviceSettings = Pick<
  Settings,
  | 'cryptoPath'
  | 'stateDir'
  | 'mqttUrl'
  | 'maxMessageSize'
  | 'noDnssec'
  | 'cryptoProvider'
  | 'dnsServers'
  | 'trustAnchorsFile'
  | 'dnssecMode'
> & {
  /** Our identity name (DANE_ID), already required by the caller (settings/settings.ts `requireDaneId`). */
  readonly daneId: string
  /** GROUP_NAME: publish to `GROUP_NAME/<recipient>`, where the original system's receivers subscribe. */
  readonly groupName?: string | undefined
  /** MQTT credentials and TLS files, as `send` takes them (MQTT_USERNAME, MQTT_PASSWORD, MQTT_CA, MQTT_CERT, MQTT_KEY). */
  readonly mqtt?: Omit<MqttLinkOptions, 'url' | 'clientId'>
  /** DANEEL_TIME_SYNC_FILE: the clock counts as synchronised once this file exists (default: timesyncd's, src/clock.ts). */
  readonly timeSyncFile?: string | undefined
}

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
  /** The sender's private key; default: `${CRYPTO_PATH}/${DANE_ID}.key.pem` (docs/contract.md "Files"). */
  readonly senderKey?: KeyObject
  /** MQTT protocol version (aedes speaks 3.1.1 only). */
  readonly mqttProtocol?: 4 | 5
  /** Called with each publication the broker acknowledged (bench and demo measure with it). */
  readonly onFirstPublish?: () => void
  /** Called when releasing resources (e.g. close the resolver's sockets). */
  readonly onClosed?: () => Promise<void> | void
  /** The journal's "alive" line interval (default 10 minutes, device/journal.ts). */
  readonly journalEveryMs?: number
  /** Called once when the runtime cannot go on: the broker refused our credentials before we ever connected. */
  readonly onFatal?: (err: DaneelError) => void
  /** The kernel's boot id and monotonic clock, for the held readings' file (default: /proc, else DANEEL_BOOT_ID). */
  readonly boot?: BootClock
}

/** The URL without a password it may carry (mqtt://user:pass@host). */
const redactUrl = (url: string): string => url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')

/** Failures that go away by themselves (DNS down at boot, clock not yet synced): worth waiting for at start-up. */
const TRANSIENT: ReadonlySet<string> = new Set([
  'ERR_DNS_TIMEOUT',
  'ERR_DNS_SERVFAIL',
  'ERR_DNS_FORMAT',
  'ERR_DNSSEC_INDETERMINATE',
  'ERR_CLOCK_UNSYNCED',
  'ERR_PKIXCD_FETCH',
])

/**
 * A recipient's key. At start-up a transient failure is retried with messaging/backoff.ts's full-jitter backoff
 * (ceiling 1 s doubling to 60 s, at least 0.5 s; logged once per distinct reason) instead of exiting, so a node that boots before its network does not crash-loop; a
 * permanent one (no TLSA record, bogus DNSSEC) fails at once with its code. On reload nothing is retried: the
 * running config stays.
 */
async function lookupPeer(directory: PeerDirectory, name: string, log: Logger, retry: boolean): Promise<PeerIdentity> {
  const backoff = new Backoff({ baseMs: 1000, capMs: 60_000, minMs: 500 })
  let last = ''
  for (;;) {
    try {
      return await directory.lookup(name)
    } catch (err) {
      if (!retry || !isDaneelError(err) || !TRANSIENT.has(err.code)) throw err
      const why = `${err.code}: ${err.message}`
      if (why !== last) log.warn(`cannot look up recipient ${name} yet; retrying`, { error: why })
      last = why
      await new Promise((r) => setTimeout(r, backoff.next()))
    }
  }
}

/** Starts the runtime for one config file. The caller installs signals (installSignals) or stops it itself. */
/** The counters an operator asks for (SIGUSR1, the periodic journal line). */
export interface DeviceStats {
  uptimeS: number
  readings: number
  sealed: number
  /** Publications the broker acknowledged (PUBACK) since start. */
  acknowledged: number
  /** Messages in the durable outbox, not yet acknowledged. */
  outbox: number
  /** Readings kept until they can be sealed (clock unsynced, a recipient's key unknown). */
  held: number
  mqtt: 'connected' | 'disconnected'
}

export interface StartedDevice extends RunningDevice {
  stats(): DeviceStats
}

export async function startDeviceFromConfig(settings: DeviceSettings, configPath: string, deps: DeviceDeps): Promise<StartedDevice> {
  const log = deps.log ?? createLogger({ name: 'device' })
  const sender = settings.daneId
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
  const sequence = openSequence(sequencePath(settings.stateDir, sender), config.sequenceBlock, { logger: log })
  // A stable client id per identity (MQTT 3.1.1 servers must accept 23 characters; longer is broker-dependent).
  const clientId = `dn-${createHash('sha256').update(sender).digest('hex').slice(0, 20)}`
  const link = new MqttLink({
    ...settings.mqtt,
    url: settings.mqttUrl,
    clientId,
    maxMessageSize: settings.maxMessageSize,
    statusTopic: presenceTopic(sender),
    logger: log,
    ...(deps.mqttProtocol === undefined ? {} : { protocolVersion: deps.mqttProtocol }),
  })
  // Refused credentials before the first connection are a configuration error, not a network fault: say so once
  // and give up (after a first success the broker's password file may be mid-edit, so the link keeps retrying).
  let everConnected = false
  link.once('up', () => {
    everConnected = true
  })
  link.on('refused', (err: Error) => {
    if (everConnected || deps.onFatal === undefined) return
    const user = settings.mqtt?.username === undefined ? 'no user name' : `user '${settings.mqtt.username}'`
    deps.onFatal(
      new DaneelError('ERR_MQTT', `the broker at ${redactUrl(settings.mqttUrl)} refused our credentials (${user}): ${err.message}`, {
        cause: err,
      }),
    )
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
    const group = settings.groupName
    const dev = await startDevice({
      sender,
      config,
      outbox:
        group === undefined
          ? outbox
          : {
              append: (topic, payload) => outbox.append(`${group}/${topic}`, payload),
              get pending() {
                return outbox.pending
              },
              close: () => outbox.close(),
            },
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
      laser: new LaserHours({ path: join(settings.stateDir, LASER_HOURS_FILE), timers, log }),
      heldStore: new HeldStore({
        path: join(settings.stateDir, HELD_FILE),
        boot: deps.boot ?? systemBootClock(),
        log,
      }),
      ...(deps.onClosed === undefined ? {} : { onClosed: deps.onClosed }),
    })
    started = true
    const bootMs = timers.nowMs()
    const stats = (): DeviceStats => ({
      uptimeS: Math.round((timers.nowMs() - bootMs) / 1000),
      readings: dev.loop.stats.readings,
      sealed: dev.loop.stats.sealed,
      acknowledged: drainer.stats().published,
      outbox: outbox.pending,
      held: dev.loop.stats.held,
      mqtt: link.connected ? 'connected' : 'disconnected',
    })
    const journal = startJournal({ timers, log, stats, ...(deps.journalEveryMs === undefined ? {} : { everyMs: deps.journalEveryMs }) })
    const stopDev = dev.stop.bind(dev)
    return Object.assign(dev, {
      stats,
      stop: () => {
        journal.stop()
        return stopDev()
      },
    })
  } catch (err) {
    await link.stop().catch(() => {})
    sequence.close()
    await outbox.close().catch(() => {})
    throw err
  }
}

/** The platform's parts: the validating resolver and the Linux HAL. Loaded lazily so tests and the demo never touch hardware. */
export async function platformDeps(settings: DeviceSettings, log: Logger): Promise<DeviceDeps> {
  const { linuxDeps } = await import('./platform.js')
  return linuxDeps(settings, log)
}

/** Heartbeats this often: a container healthcheck (docker-compose.yml) calls the runtime dead after 3 minutes without. */
const HEARTBEAT_MS = 30_000

/**
 * Rewrites `path` with the counters every 30 s while the event loop lives (DANEEL_HEARTBEAT; unset: nothing).
 * A failed write is logged once: health reporting must never stop the readings.
 */
function startHeartbeat(path: string | undefined, dev: StartedDevice, log: Logger): { stop(): void } {
  if (path === undefined || path === '') return { stop() {} }
  let failed = false
  const beat = (): void => {
    try {
      writeFileSync(path, `${JSON.stringify(dev.stats())}\n`)
      failed = false
    } catch (err) {
      if (!failed) log.warn('cannot write the heartbeat file', { path, error: (err as Error).message })
      failed = true
    }
  }
  beat()
  const timer = setInterval(beat, HEARTBEAT_MS)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}

/**
 * Runs the device until SIGTERM/SIGINT (installSignals drains the outbox); resolves with the exit status. Input
 * errors (config, identity) are thrown first, before anything touches the network or hardware.
 */
export async function runDevice(settings: DeviceSettings, configPath: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const log = createLogger({ name: 'device' })
  // Node starts its inspector (a debugger on 127.0.0.1:9229) on SIGUSR1 unless a listener is installed; this
  // process holds the device key, so SIGUSR1 prints the counters instead, from the very start.
  let current: StartedDevice | undefined
  const usr1 = (): void => {
    if (current === undefined) log.info('SIGUSR1: starting (no counters yet)')
    else log.info('SIGUSR1: stats', { ...current.stats() })
  }
  process.on('SIGUSR1', usr1)
  let fatal: DaneelError | undefined
  let onFatal: (err: DaneelError) => void = (err) => {
    fatal ??= err
  }
  try {
    loadConfig(configPath)
    const senderKey = loadIdentity(settings.cryptoPath, settings.daneId).privateKey
    const dev = await startDeviceFromConfig(settings, configPath, {
      ...(await platformDeps(settings, log)),
      senderKey,
      boot: systemBootClock({ fallback: env.DANEEL_BOOT_ID }),
      onFatal: (err) => onFatal(err),
    })
    current = dev
    if (fatal !== undefined) {
      await dev.stop()
      throw fatal
    }
    // Under systemd (Type=notify, WatchdogSec=): ready once running; pings while the event loop and sampling live.
    const watchdog = startWatchdog({ env, log })
    watchdog.ready()
    const heartbeat = startHeartbeat(env.DANEEL_HEARTBEAT, dev, log)
    return await new Promise<number>((resolve, reject) => {
      const remove = installSignals(dev, log, (code) => {
        heartbeat.stop()
        watchdog.stopping()
        resolve(code)
      })
      onFatal = (err) => {
        if (fatal !== undefined) return
        fatal = err
        remove()
        heartbeat.stop()
        watchdog.stopping()
        dev.stop().then(
          () => reject(err),
          () => reject(err),
        )
      }
    })
  } finally {
    process.off('SIGUSR1', usr1)
  }
}
