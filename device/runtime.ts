/** The device runtime's lifecycle: start the loop, drain on SIGTERM (bounded), reload the config on SIGHUP. */

import type { SequenceStore } from '../messaging/sequence.js'
import type { TimerClock } from '../sensors/hal.js'
import type { Clock } from '../src/clock.js'
import { DaneelError } from '../src/errors.js'
import type { Logger } from '../src/log.js'
import { VERSION } from '../src/version.js'
import type { DeviceConfig } from './config.js'
import type { HeldStore } from './held-store.js'
import type { LaserHours } from './laser-hours.js'
import { DeviceLoop, type LoopRecipient, type LoopSensor, type ReadingSealer } from './loop.js'

/** The sensors of one config, with what releases their buses. */
export interface SensorSet {
  readonly sensors: LoopSensor[]
  close(): void
}

/** What the runtime needs from the outbox (messaging/outbox.ts `DiskOutbox`). */
export interface RuntimeOutbox {
  append(topic: string, payload: Uint8Array): Promise<number>
  readonly pending: number
  close(): Promise<void>
}

/** The MQTT side that drains the outbox (messaging/mqtt.ts); stop() disconnects cleanly. */
export interface RuntimeTransport {
  stop(): Promise<void>
}

export interface DeviceParts {
  readonly sender: string
  readonly config: DeviceConfig
  readonly outbox: RuntimeOutbox
  readonly transport: RuntimeTransport
  readonly sequence: SequenceStore
  readonly clock: Clock
  readonly timers: TimerClock
  readonly log: Logger
  /** Opens the sensors of a config (real HAL or fakes). */
  openSensors(config: DeviceConfig): Promise<SensorSet>
  /** A sealer to one recipient (its key found in DNS). */
  sealerFor(recipient: string, config: DeviceConfig): Promise<ReadingSealer>
  /** Re-reads and validates the config file (SIGHUP); throws ERR_CONFIG_INVALID naming the field. */
  reloadConfig?(): DeviceConfig
  /** Called after everything is closed (e.g. release the resolver's sockets). */
  onClosed?(): Promise<void> | void
  /** Laser-on hours of the PM sensors (persisted under DANEEL_STATE by start.ts). */
  readonly laser?: LaserHours
  /** Messages held until they can be sealed, on disk so a restart keeps them (DANEEL_STATE/held.jsonl, start.ts). */
  readonly heldStore?: HeldStore
}

export interface RunningDevice {
  readonly loop: DeviceLoop
  /** The config in force (changes on a good reload). */
  readonly config: DeviceConfig
  /** Stops sampling, waits up to drainSeconds for the outbox to empty, closes everything. Idempotent. */
  stop(): Promise<{ drained: boolean; pending: number }>
  /** Re-reads the config; a bad one is logged once and the old one keeps running. Returns whether it was applied. */
  reload(): Promise<boolean>
}

async function openRecipients(parts: DeviceParts, config: DeviceConfig): Promise<LoopRecipient[]> {
  const out: LoopRecipient[] = []
  for (const name of config.recipients) out.push({ name, sealer: await parts.sealerFor(name, config) })
  return out
}

/**
 * On SIGTERM the outbox is emptied only when it holds at most this many entries (a few round trips of the
 * sender's window of 20): a larger backlog stays on disk and goes out after the restart, so a stop never waits
 * drainSeconds for an outage's worth of readings (it took 31 s).
 */
export const DRAIN_BACKLOG = 100

const loopSensors = (set: SensorSet): LoopSensor[] => set.sensors

/**
 * Starts the loop with every part wired. Signals are the caller's (see installSignals). Sampling starts before the
 * recipients' keys are known (DNS may be down at boot): the loop holds the readings and seals them, with their time,
 * once every key is found. A permanent lookup failure (no TLSA record, bogus DNSSEC) stops it and is thrown.
 */
export async function startDevice(parts: DeviceParts): Promise<RunningDevice> {
  let config = parts.config
  const recipients: LoopRecipient[] = config.recipients.map((name) => ({ name, sealer: undefined }))
  let sensors = await parts.openSensors(config)
  const loop = new DeviceLoop({
    sensors: loopSensors(sensors),
    recipients,
    outbox: parts.outbox,
    sequence: parts.sequence,
    clock: parts.clock,
    timers: parts.timers,
    log: parts.log,
    statusIntervalMs: config.statusIntervalSeconds * 1000,
    version: VERSION,
    outboxDepth: () => parts.outbox.pending,
    ...(parts.laser === undefined ? {} : { laser: parts.laser }),
    ...(parts.heldStore === undefined ? {} : { heldStore: parts.heldStore }),
  })
  loop.start()
  try {
    await Promise.all(
      recipients.map(async (r) => {
        r.sealer = await parts.sealerFor(r.name, config)
      }),
    )
  } catch (err) {
    loop.stop()
    sensors.close()
    throw err
  }
  parts.log.info('device loop started', {
    version: VERSION,
    sender: parts.sender,
    sensors: config.sensors.length,
    recipients: config.recipients,
  })
  let stopping: Promise<{ drained: boolean; pending: number }> | undefined
  let lastReloadError = ''

  const drain = async (): Promise<{ drained: boolean; pending: number }> => {
    loop.stop()
    sensors.close()
    const deadline = parts.timers.nowMs() + config.drainSeconds * 1000
    // Appends already handed to the outbox become durable first; then the MQTT side empties it (entries are
    // removed on PUBACK). What is left at the deadline stays on disk and goes out after the restart. A backlog
    // (an outage's worth) is not waited for at all: it is on disk already, and a signal must not take drainSeconds.
    const wait = (): Promise<void> => new Promise<void>((r) => setTimeout(r, 20)) // ref'd: keeps the process alive
    while (loop.pendingAppends > 0 && parts.timers.nowMs() < deadline) await wait()
    if (parts.outbox.pending > DRAIN_BACKLOG) parts.log.info('a backlog is queued: not waiting for it', { pending: parts.outbox.pending })
    else while (parts.outbox.pending > 0 && parts.timers.nowMs() < deadline) await wait()
    const pending = parts.outbox.pending
    const drained = pending === 0 && loop.pendingAppends === 0
    if (drained) parts.log.info('outbox drained; stopping')
    else parts.log.warn('stopping with messages still queued (kept on disk for the next start)', { pending })
    await parts.transport.stop()
    parts.sequence.close()
    await parts.outbox.close()
    await parts.onClosed?.()
    return { drained, pending }
  }

  return {
    loop,
    get config() {
      return config
    },
    stop(): Promise<{ drained: boolean; pending: number }> {
      stopping ??= drain()
      return stopping
    },
    async reload(): Promise<boolean> {
      if (parts.reloadConfig === undefined || stopping !== undefined) return false
      let next: DeviceConfig
      let nextRecipients: LoopRecipient[]
      let nextSensors: SensorSet
      try {
        next = parts.reloadConfig()
        nextRecipients = await openRecipients(parts, next)
      } catch (err) {
        const why = err instanceof DaneelError ? `${err.message} [${err.code}]` : String(err)
        // Once per distinct reason: a reload loop sending SIGHUP every second must not flood the journal.
        if (why !== lastReloadError) parts.log.error('config reload rejected; keeping the running config', { error: why })
        lastReloadError = why
        return false
      }
      // The old sensors release their buses before the new ones open the same ports.
      loop.stop()
      sensors.close()
      try {
        nextSensors = await parts.openSensors(next)
      } catch (err) {
        parts.log.error('new sensors failed to open; keeping the running config', { error: String(err) })
        sensors = await parts.openSensors(config)
        loop.replace(loopSensors(sensors), await openRecipients(parts, config))
        loop.start()
        return false
      }
      sensors = nextSensors
      config = next
      lastReloadError = ''
      loop.replace(loopSensors(sensors), nextRecipients)
      loop.start()
      parts.log.info('config reloaded', { sensors: next.sensors.length, recipients: next.recipients })
      return true
    },
  }
}

/**
 * SIGTERM/SIGINT stop (drain, then `onExit(0)`), SIGHUP reloads. Handlers are removed once stopped, so a
 * second SIGINT during the drain falls through to Node's default and kills the process (an impatient operator).
 */
export function installSignals(dev: RunningDevice, log: Logger, onExit: (code: number) => void): () => void {
  const stop = (sig: NodeJS.Signals): void => {
    log.info(`${sig}: draining the outbox`)
    remove()
    dev.stop().then(
      () => onExit(0),
      (err: unknown) => {
        log.error('error while stopping', { error: String(err) })
        onExit(1)
      },
    )
  }
  const hup = (): void => {
    void dev.reload()
  }
  const remove = (): void => {
    process.off('SIGTERM', stop)
    process.off('SIGINT', stop)
    process.off('SIGHUP', hup)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.on('SIGHUP', hup)
  return remove
}
