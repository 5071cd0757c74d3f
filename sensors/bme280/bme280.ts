/** The BME280/BMP280/BME680 driver over the kernel's IIO sysfs driver (no native code): polled, latest value sampled. */
import type { DriverState, SampleResult, SensorDriver, SensorStatus } from '../driver.js'
import type { Iio, TimerClock, TimerHandle } from '../hal.js'
import { type HealthOptions, newStatus, SensorHealth } from '../health.js'
import type { ReadingFields } from '../readings.js'
import { bmePlausible, type IioChip, iioHumidityPct, iioPressureHpa, iioTemperatureC, isIioChip, parseIioNumber } from './iio-values.js'

export interface Bme280Options extends HealthOptions {
  id: string
  /** Which kernel driver's units to expect (default: the device's IIO `name`). */
  chip?: IioChip
  /** Read every pollMs (default 5000). Each read makes the kernel run a forced measurement (no self-heating). */
  pollMs?: number
  /** Readings discarded after start (default 0: the chip needs none). */
  warmupMs?: number
}

/** Defaults: a forced measurement every 5 s; no warm-up (the chip needs none). */
export const BME280_DEFAULTS = { pollMs: 5000, warmupMs: 0 }

/**
 * Why polled on its own timer: an IIO read blocks the kernel for the measurement (tens of ms; more for the BME680's
 * gas heater), so it must not sit in the loop's tick. Reads are async (a few promises every pollMs, not per tick);
 * `sample()` only copies the latest values and allocates nothing. Errors from the kernel (EIO, EBUSY, ENODEV when the
 * chip is absent or the bus is stuck) are E_IO faults; values outside the Bosch clamps are E_RANGE.
 */
export class Bme280 implements SensorDriver {
  readonly id: string
  readonly model: string
  readonly status: SensorStatus
  private readonly iio: Iio
  private readonly clock: TimerClock
  private readonly health: SensorHealth
  private readonly chip: IioChip
  private readonly pollMs: number
  private readonly warmupMs: number
  private readonly tick: () => void
  private timer: TimerHandle | null = null
  /** Bumped on stop/restart so a read that was in flight cannot deliver into a new run. */
  private generation = 0
  private warmUntilMs = 0
  private fresh = false
  private faultPending = false
  private temperature = Number.NaN
  private humidity = Number.NaN
  private pressure = Number.NaN
  private gas = Number.NaN

  constructor(iio: Iio, clock: TimerClock, opts: Bme280Options) {
    const chip = opts.chip ?? (isIioChip(iio.name) ? iio.name : 'bme280')
    this.id = opts.id
    this.model = chip
    this.chip = chip
    this.iio = iio
    this.clock = clock
    this.status = newStatus(opts.id, chip)
    this.health = new SensorHealth(this.status, clock, opts)
    this.pollMs = opts.pollMs ?? BME280_DEFAULTS.pollMs
    this.warmupMs = opts.warmupMs ?? BME280_DEFAULTS.warmupMs
    this.tick = () => {
      this.timer = null
      void this.poll(this.generation)
    }
  }

  start(): void {
    if (this.status.state !== 'stopped') return
    this.health.reset()
    this.generation++
    this.warmUntilMs = this.clock.nowMs() + this.warmupMs
    this.status.state = this.warmupMs > 0 ? 'warming' : 'running'
    this.fresh = false
    this.faultPending = false
    this.timer = this.clock.setTimer(this.tick, 0)
  }

  stop(): void {
    if (this.status.state === 'stopped') return
    this.generation++
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    this.timer = null
    this.status.state = 'stopped'
  }

  private async readNumber(attr: string): Promise<number> {
    return parseIioNumber(await this.iio.readAttr(attr))
  }

  private async poll(gen: number): Promise<void> {
    const s = this.status
    if (s.state === 'backoff' && !this.health.retryDue()) {
      this.timer = this.clock.setTimer(this.tick, Math.max(0, s.retryAtMs - this.clock.nowMs()))
      return
    }
    let t = Number.NaN
    let p = Number.NaN
    let h = Number.NaN
    let g = Number.NaN
    let ioFailed = false
    try {
      t = iioTemperatureC(await this.readNumber('in_temp_input'))
      p = iioPressureHpa(await this.readNumber('in_pressure_input'))
      if (this.chip !== 'bmp280') h = iioHumidityPct(this.chip, await this.readNumber('in_humidityrelative_input'))
      if (this.chip === 'bme680') g = await this.readNumber('in_resistance_input')
    } catch {
      ioFailed = true
    }
    if (gen !== this.generation) return // stopped or restarted meanwhile
    if (s.state === 'backoff') s.state = 'running' // a retry: its outcome decides below
    if (ioFailed || !bmePlausible(t, p, h) || (this.chip !== 'bmp280' && Number.isNaN(h))) {
      this.faultPending = true
      this.health.fault(ioFailed ? 'E_IO' : 'E_RANGE')
    } else if (this.clock.nowMs() >= this.warmUntilMs) {
      if (s.state === 'warming') s.state = 'running'
      this.temperature = t
      this.pressure = p
      this.humidity = h
      this.gas = g
      this.fresh = true
      this.health.good()
    }
    const next = (s.state as DriverState) === 'backoff' ? Math.max(0, s.retryAtMs - this.clock.nowMs()) : this.pollMs
    this.timer = this.clock.setTimer(this.tick, next)
  }

  sample(out: ReadingFields): SampleResult {
    const s = this.status
    if (s.state === 'stopped') return 'stopped'
    if (s.state === 'backoff') return 'backoff'
    if (this.fresh) {
      this.fresh = false
      this.faultPending = false
      out.temperature = this.temperature
      out.pressure = this.pressure
      if (!Number.isNaN(this.humidity)) out.humidity = this.humidity
      if (!Number.isNaN(this.gas)) out.gasResistance = this.gas
      return 'fresh'
    }
    if (this.faultPending) {
      this.faultPending = false
      return 'fault'
    }
    return s.state === 'warming' ? 'warming' : 'none'
  }
}
