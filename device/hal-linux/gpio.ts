/** The Linux Gpio: a BCM pin mapped to its sysfs number, exported and watched through onoff (loaded lazily). */

import type { EdgeListener, EdgeMode, Gpio, Level } from '../../sensors/hal.js'
import { DaneelError } from '../../src/errors.js'
import { translateGpioError } from './gpio-errors.js'
import { DEFAULT_SYSFS_GPIO_ROOT, type GpioMapping, mapBcmToSysfs } from './gpio-map.js'

/** The part of onoff's Gpio we use (onoff 6.x). */
export interface OnoffGpio {
  readSync(): number
  watch(cb: (err: Error | null | undefined, value: number) => void): void
  unwatchAll(): void
  unexport(): void
}

export interface OnoffModule {
  Gpio: new (gpio: number, direction: 'in', edge?: 'none' | EdgeMode, options?: { reconfigureDirection?: boolean }) => OnoffGpio
}

export type OnoffLoader = () => Promise<OnoffModule>

/**
 * onoff is an optional dependency with a native part (epoll): import it only when a GPIO sensor is configured, so
 * every other command works where it is not installed or did not compile. The specifier is a variable so neither
 * tsc nor esbuild tries to resolve it at build time.
 */
export const loadOnoff: OnoffLoader = async () => {
  const specifier = 'onoff'
  const m = (await import(specifier)) as { default?: OnoffModule } & Partial<OnoffModule>
  const mod = m.Gpio !== undefined ? (m as OnoffModule) : m.default
  if (mod?.Gpio === undefined) throw new DaneelError('ERR_GPIO', 'the onoff module has no Gpio export')
  return mod
}

export interface GpioOptions {
  /** Where to read gpiochipN from (default /sys/class/gpio). onoff itself always uses /sys/class/gpio. */
  sysfsRoot?: string
  /** Edges to report (default both). Never debounce a pulse-counting input: debounce swallows pulses. */
  edge?: EdgeMode
  /** Replaces the onoff import (tests). */
  loader?: OnoffLoader
}

/**
 * Edge timestamps are taken in JS when onoff's epoll callback runs (performance.now, µs): ms-scale jitter, worse
 * under GC. Fine for the PPD42NS's tens-of-ms pulses over a 30 s window; for kernel timestamps use
 * a gpiomon-based source instead.
 */
export class LinuxGpio implements Gpio {
  readonly mapping: GpioMapping
  /** The last error reported by onoff's watcher (the Gpio interface has no error channel for edges). */
  lastError: DaneelError | null = null
  private readonly pin: OnoffGpio
  private listener: EdgeListener | null = null
  private watching = false
  private closed = false
  private readonly onEdge: (err: Error | null | undefined, value: number) => void

  constructor(pin: OnoffGpio, mapping: GpioMapping) {
    this.pin = pin
    this.mapping = mapping
    this.onEdge = (err, value) => {
      if (err) {
        this.lastError = translateGpioError(err, 'watch', this.mapping)
        return
      }
      this.listener?.(value ? 1 : 0, performance.now() * 1000)
    }
  }

  /** The current level. Throws ERR_GPIO if the value file cannot be read. */
  read(): Level {
    try {
      return this.pin.readSync() ? 1 : 0
    } catch (err) {
      throw translateGpioError(err, 'read', this.mapping)
    }
  }

  watch(listener: EdgeListener): void {
    this.listener = listener
    if (this.watching || this.closed) return
    try {
      this.pin.watch(this.onEdge)
      this.watching = true
    } catch (err) {
      throw translateGpioError(err, 'watch', this.mapping)
    }
  }

  unwatch(): void {
    this.listener = null
    if (!this.watching) return
    this.watching = false
    this.pin.unwatchAll()
  }

  close(): void {
    if (this.closed) return
    this.unwatch()
    this.closed = true
    try {
      this.pin.unexport()
    } catch {
      // Already gone (another process unexported it, or the board is shutting down): nothing to release.
    }
  }
}

/** Map `bcm`, load onoff, export the pin as an input with edge detection. Throws ERR_GPIO saying why. */
export async function openGpio(bcm: number, opts: GpioOptions = {}): Promise<LinuxGpio> {
  const mapping = mapBcmToSysfs(bcm, opts.sysfsRoot ?? DEFAULT_SYSFS_GPIO_ROOT)
  let onoff: OnoffModule
  try {
    onoff = await (opts.loader ?? loadOnoff)()
  } catch (err) {
    throw translateGpioError(err, 'load', mapping)
  }
  try {
    return new LinuxGpio(new onoff.Gpio(mapping.sysfs, 'in', opts.edge ?? 'both'), mapping)
  } catch (err) {
    throw translateGpioError(err, 'export', mapping)
  }
}
