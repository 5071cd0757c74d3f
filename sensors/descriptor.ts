/** What a sensor folder declares about its chip: bus kind, defaults, the config settings it accepts, and its factory. */
import type { SensorDriver } from './driver.js'
import type { Gpio, Iio, TimerClock, Uart } from './hal.js'
import type { HealthOptions } from './health.js'

/** How the chip is wired: a serial line, a GPIO input pin, or a Linux IIO device. */
export type BusKind = 'uart' | 'gpio' | 'iio'

/** The fields every sensor's config has, whatever its bus. */
export interface SensorCommon {
  /** Short unique id, used in readings and status messages (e.g. "pm", "co2"). */
  readonly id: string
  /** A type some descriptor lists (e.g. 'pms5003'). */
  readonly type: string
  /** Seconds between readings of this sensor (defaults to the top-level intervalSeconds). */
  readonly intervalSeconds: number
  /** Seconds after wake before readings count (the descriptor's default unless configured). */
  readonly warmupSeconds: number
}

/**
 * A chip's own settings (PMS `mode`, MH-Z19B `abc`, PPD42NS `windowSeconds`, ...) sit beside the common and bus fields,
 * validated by its descriptor's `settings` and defaults filled in; only that descriptor's factory reads them.
 */
export type ChipSetting = string | number | boolean | Readonly<Record<string, number>> | readonly string[]
interface SensorConfigBase extends SensorCommon {
  readonly [setting: string]: unknown
}

export interface UartSensorConfig extends SensorConfigBase {
  readonly bus: 'uart'
  /** The tty path (e.g. /dev/ttyAMA0), unique across sensors. */
  readonly port: string
  /** The line speed (the descriptor's `baud`; 9600 for every chip supported today). */
  readonly baud: number
}

export interface GpioSensorConfig extends SensorConfigBase {
  readonly bus: 'gpio'
  /** The BCM pin number (0-53), mapped through the sysfs gpiochip bases at run time; unique across sensors. */
  readonly pin: number
}

export interface IioSensorConfig extends SensorConfigBase {
  readonly bus: 'iio'
  /** The IIO device directory name (iio:device0) or an absolute path under /sys/bus/iio. */
  readonly iio: string
}

/** One sensor of a device config: a union by bus kind (`bus`). */
export type SensorConfig = UartSensorConfig | GpioSensorConfig | IioSensorConfig

/**
 * Validates one chip setting: its raw value (undefined when absent) → the value stored (the default when absent).
 * Throws `configError(field, ...)` (config-fields.ts) on a bad value; `sensor` gives the common fields already read.
 */
export type SettingReader = (value: unknown, field: string, sensor: SensorCommon) => ChipSetting

interface DescriptorBase {
  /** The config `type`s this descriptor builds (one driver may serve a family: pms5003 and pms7003). */
  readonly types: readonly string[]
  /** For messages ("only applies to PMS5003/PMS7003 sensors"). */
  readonly label: string
  /** Warm-up used when the config gives none. */
  readonly warmupSeconds: number
  /** The chip's own config fields, each with its reader (validation and default). */
  readonly settings: Readonly<Record<string, SettingReader>>
}

export interface UartSensorDescriptor extends DescriptorBase {
  readonly bus: 'uart'
  /** The only line speed the chip speaks (8N1); another configured `baud` is rejected. */
  readonly baud: number
  create(uart: Uart, clock: TimerClock, cfg: UartSensorConfig, health: HealthOptions): SensorDriver
}

export interface GpioSensorDescriptor extends DescriptorBase {
  readonly bus: 'gpio'
  create(gpio: Gpio, clock: TimerClock, cfg: GpioSensorConfig, health: HealthOptions): SensorDriver
}

export interface IioSensorDescriptor extends DescriptorBase {
  readonly bus: 'iio'
  create(iio: Iio, clock: TimerClock, cfg: IioSensorConfig, health: HealthOptions): SensorDriver
}

/** One per sensor folder (`sensors/<chip>/descriptor.ts`), listed once in `registry.ts`. */
export type SensorDescriptor = UartSensorDescriptor | GpioSensorDescriptor | IioSensorDescriptor
