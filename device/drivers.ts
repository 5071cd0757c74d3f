/** Builds the sensor drivers a config names, on a HAL (Linux hardware or fakes); a bus that will not open is a failed sensor, not a crash. */

import type { SensorConfig, SensorDescriptor } from '../sensors/descriptor.js'
import { canSleep, type SampleResult, type SensorDriver, type SensorStatus } from '../sensors/driver.js'
import { dutyOf, windowStatsOf } from '../sensors/duty-config.js'
import type { Gpio, Iio, TimerClock, Uart } from '../sensors/hal.js'
import { type HealthOptions, newStatus, SensorHealth } from '../sensors/health.js'
import type { ReadingFields } from '../sensors/readings.js'
import { findSensor } from '../sensors/registry.js'
import { DaneelError } from '../src/errors.js'
import type { DeviceConfig } from './config.js'
import type { DutyPlan } from './duty.js'
import type { LoopSensor } from './loop.js'
import type { SensorSet } from './runtime.js'

/** Where buses come from: device/hal-linux on a Pi, sensors/fakes in the demo and tests. Each may reject (ERR_UART...). */
export interface DeviceHal {
  uart(port: string, baud: number): Promise<Uart>
  gpio(pin: number, sysfsRoot: string): Promise<Gpio>
  iio(spec: string): Promise<Iio>
}

/** Opens the sensor's bus and builds its driver with the descriptor's factory; `closers` collects what to close. */
async function openDriver(
  d: SensorDescriptor,
  cfg: SensorConfig,
  hal: DeviceHal,
  sysfsRoot: string,
  timers: TimerClock,
  health: HealthOptions,
  closers: Array<() => void>,
): Promise<SensorDriver> {
  if (d.bus === 'uart' && cfg.bus === 'uart') {
    const uart = await hal.uart(cfg.port, cfg.baud)
    closers.push(() => uart.close())
    return d.create(uart, timers, cfg, health)
  }
  if (d.bus === 'gpio' && cfg.bus === 'gpio') {
    const gpio = await hal.gpio(cfg.pin, sysfsRoot)
    closers.push(() => gpio.close())
    return d.create(gpio, timers, cfg, health)
  }
  if (d.bus === 'iio' && cfg.bus === 'iio') return d.create(await hal.iio(cfg.iio), timers, cfg, health)
  throw new DaneelError('ERR_CONFIG_INVALID', `sensor ${cfg.id}: ${cfg.type} is a ${d.bus} sensor, configured on ${cfg.bus}`)
}

/**
 * Stands in for a sensor whose bus did not open (adapter unplugged, permission denied): reported failed with E_IO,
 * and retried with the same backoff as any failed sensor. When the bus opens, the real driver takes over.
 */
class UnopenedSensor implements SensorDriver {
  readonly id: string
  readonly model: string
  private readonly own: SensorStatus
  inner: SensorDriver | undefined
  private readonly health: SensorHealth
  private opening = false
  private wanted = false
  private readonly open: () => Promise<SensorDriver>
  private readonly onError: (err: unknown) => void

  constructor(
    cfg: SensorConfig,
    timers: TimerClock,
    health: HealthOptions,
    open: () => Promise<SensorDriver>,
    onError: (err: unknown) => void,
  ) {
    this.id = cfg.id
    this.model = cfg.type
    this.own = newStatus(cfg.id, cfg.type)
    this.health = new SensorHealth(this.own, timers, { ...health, failedAfter: 1, degradedAfter: 1 })
    this.open = open
    this.onError = onError
    this.health.fault('E_IO')
  }

  /** Ours until the bus opens, then the real driver's (the loop reads it every tick). */
  get status(): SensorStatus {
    return this.inner?.status ?? this.own
  }

  start(): void {
    this.wanted = true
    this.inner?.start()
  }

  stop(): void {
    this.wanted = false
    this.inner?.stop()
  }

  /** Duty cycling reaches the real driver once the bus is open (before that there is no chip to sleep). */
  sleep(): void {
    if (this.inner !== undefined && canSleep(this.inner)) this.inner.sleep()
  }

  wake(): void {
    if (this.inner !== undefined && canSleep(this.inner)) this.inner.wake()
  }

  sample(out: ReadingFields): SampleResult {
    if (this.inner !== undefined) return this.inner.sample(out)
    if (this.health.retryDue() && !this.opening) {
      this.opening = true
      this.own.state = 'running'
      this.open().then(
        (d) => {
          this.opening = false
          this.inner = d
          if (this.wanted) d.start()
        },
        (err: unknown) => {
          this.opening = false
          this.health.fault('E_IO')
          this.onError(err)
        },
      )
    }
    return this.own.state === 'backoff' ? 'backoff' : 'fault'
  }
}

/**
 * The window plan of a sensor whose chip has the `duty` setting (the PM sensors): asleep between windows when duty
 * is on, else back-to-back windows of one interval, sampled once a second (or once an interval, if shorter).
 */
function windowPlan(cfg: SensorConfig): { duty?: DutyPlan } {
  if (cfg.duty === undefined) return {}
  const duty = dutyOf(cfg)
  const stats = windowStatsOf(cfg)
  if (duty !== undefined) return { duty: { warmupMs: duty.warmupSeconds * 1000, windowMs: duty.windowSeconds * 1000, stats } }
  const intervalMs = cfg.intervalSeconds * 1000
  return { duty: { warmupMs: cfg.warmupSeconds * 1000, windowMs: intervalMs, sampleMs: Math.min(1000, intervalMs), stats, sleeps: false } }
}

/** Opens every sensor of a config. Only a config naming a chip without a driver in this build is an error. */
export async function openSensors(
  config: DeviceConfig,
  hal: DeviceHal,
  timers: TimerClock,
  onError: (id: string, err: unknown) => void,
): Promise<SensorSet> {
  const health: HealthOptions = {
    degradedAfter: config.faults.degradedAfter,
    failedAfter: config.faults.failedAfter,
    backoffMs: config.faults.backoffMinSeconds * 1000,
    maxBackoffMs: config.faults.backoffMaxSeconds * 1000,
  }
  // A parsed config only names registered types; a hand-built one may not.
  const planned = config.sensors.map((cfg, i) => {
    const d = findSensor(cfg.type)
    if (d === undefined || d.bus !== cfg.bus)
      throw new DaneelError('ERR_CONFIG_INVALID', `config field sensors[${i}].type: no ${cfg.bus} ${cfg.type} driver in this build`)
    return { cfg, d }
  })
  const closers: Array<() => void> = []
  const sensors: LoopSensor[] = []
  for (const { cfg, d } of planned) {
    const open = (): Promise<SensorDriver> => openDriver(d, cfg, hal, config.gpioSysfsRoot, timers, health, closers)
    let driver: SensorDriver
    try {
      driver = await open()
    } catch (err) {
      onError(cfg.id, err)
      driver = new UnopenedSensor(cfg, timers, health, open, (e) => onError(cfg.id, e))
    }
    sensors.push({ driver, intervalMs: cfg.intervalSeconds * 1000, ...windowPlan(cfg) })
  }
  return {
    sensors,
    close(): void {
      for (const close of closers.splice(0)) {
        try {
          close()
        } catch {
          // closing a bus that already failed must not stop the others from closing
        }
      }
    },
  }
}
