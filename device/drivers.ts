/** Builds the sensor drivers a config names, on a HAL (Linux hardware or fakes); a bus that will not open is a failed sensor, not a crash. */

import { Bme280 } from '../sensors/bme280/bme280.js'
import type { SampleResult, SensorDriver, SensorStatus } from '../sensors/driver.js'
import type { Gpio, Iio, TimerClock, Uart } from '../sensors/hal.js'
import { type HealthOptions, newStatus, SensorHealth } from '../sensors/health.js'
import { Mhz19b } from '../sensors/mhz19/mhz19b.js'
import { Pms5003 } from '../sensors/pms5003/pms5003.js'
import { Ppd42ns } from '../sensors/ppd42/ppd42ns.js'
import type { ReadingFields } from '../sensors/readings.js'
import { Sds011 } from '../sensors/sds011/sds011.js'
import { DaneelError } from '../src/errors.js'
import type { DeviceConfig, SensorConfig } from './config.js'
import type { LoopSensor } from './loop.js'
import type { SensorSet } from './runtime.js'

/** Where buses come from: device/hal-linux on a Pi, sensors/fakes in the demo and tests. Each may reject (ERR_UART...). */
export interface DeviceHal {
  uart(port: string, baud: number): Promise<Uart>
  gpio(pin: number, sysfsRoot: string): Promise<Gpio>
  iio(spec: string): Promise<Iio>
}

type Bus = Uart | Gpio | Iio
type Factory = (cfg: SensorConfig, bus: Bus, timers: TimerClock, health: HealthOptions) => SensorDriver

/** One entry per chip whose driver is in this build. */
const FACTORIES: Partial<Record<SensorConfig['type'], Factory>> = {
  pms5003: (c, bus, t, h) =>
    new Pms5003(bus as Uart, t, { ...h, id: c.id, model: 'pms5003', mode: c.mode ?? 'active', warmupMs: c.warmupSeconds * 1000 }),
  pms7003: (c, bus, t, h) =>
    new Pms5003(bus as Uart, t, { ...h, id: c.id, model: 'pms7003', mode: c.mode ?? 'active', warmupMs: c.warmupSeconds * 1000 }),
  sds011: (c, bus, t, h) => new Sds011(bus as Uart, t, { ...h, id: c.id, mode: c.mode ?? 'active', warmupMs: c.warmupSeconds * 1000 }),
  mhz19b: (c, bus, t, h) => new Mhz19b(bus as Uart, t, { ...h, id: c.id, abc: c.abc ?? false, warmupMs: c.warmupSeconds * 1000 }),
  ppd42ns: (c, bus, t, h) =>
    new Ppd42ns(bus as Gpio, t, { ...h, id: c.id, windowMs: (c.windowSeconds ?? 30) * 1000, warmupMs: c.warmupSeconds * 1000 }),
  // The kernel's IIO driver (bmp280 for a BME280, bme680) does the compensation; the chip comes from its `name`.
  bme280: (c, bus, t, h) =>
    new Bme280(bus as Iio, t, { ...h, id: c.id, pollMs: c.intervalSeconds * 1000, warmupMs: c.warmupSeconds * 1000 }),
  bme680: (c, bus, t, h) =>
    new Bme280(bus as Iio, t, { ...h, id: c.id, pollMs: c.intervalSeconds * 1000, warmupMs: c.warmupSeconds * 1000 }),
}

/** Registers a driver factory (used as the remaining chips' drivers land; tests register emulators). */
export function registerDriver(type: SensorConfig['type'], factory: Factory): void {
  FACTORIES[type] = factory
}

function openBus(cfg: SensorConfig, hal: DeviceHal, sysfsRoot: string): Promise<Bus> {
  if (cfg.port !== undefined) return hal.uart(cfg.port, cfg.baud ?? 9600)
  if (cfg.pin !== undefined) return hal.gpio(cfg.pin, sysfsRoot)
  if (cfg.iio !== undefined) return hal.iio(cfg.iio)
  return Promise.reject(new DaneelError('ERR_CONFIG_INVALID', `sensor ${cfg.id} has no bus`))
}

const closeBus = (bus: Bus): void => {
  if ('close' in bus) bus.close()
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
  for (const [i, s] of config.sensors.entries()) {
    if (FACTORIES[s.type] === undefined)
      throw new DaneelError('ERR_CONFIG_INVALID', `config field sensors[${i}].type: no ${s.type} driver in this build`)
  }
  const buses: Bus[] = []
  const sensors: LoopSensor[] = []
  for (const cfg of config.sensors) {
    const factory = FACTORIES[cfg.type] as Factory
    const open = async (): Promise<SensorDriver> => {
      const bus = await openBus(cfg, hal, config.gpioSysfsRoot)
      buses.push(bus)
      return factory(cfg, bus, timers, health)
    }
    let driver: SensorDriver
    try {
      driver = await open()
    } catch (err) {
      onError(cfg.id, err)
      driver = new UnopenedSensor(cfg, timers, health, open, (e) => onError(cfg.id, e))
    }
    sensors.push({ driver, intervalMs: cfg.intervalSeconds * 1000 })
  }
  return {
    sensors,
    close(): void {
      for (const b of buses.splice(0)) {
        try {
          closeBus(b)
        } catch {
          // closing a bus that already failed must not stop the others from closing
        }
      }
    },
  }
}
