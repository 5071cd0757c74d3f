/** The Linux Iio: a /sys/bus/iio/devices/iio:deviceN directory whose attributes are read as text (no i2c addon). */
import { readdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import type { Iio } from '../../sensors/hal.js'
import { DaneelError } from '../../src/errors.js'

export const DEFAULT_IIO_ROOT = '/sys/bus/iio/devices'

/*
 * Enable the kernel driver with `dtparam=i2c_arm=on` and `dtoverlay=i2c-sensor,bme280,addr=0x76` (or `bme680`) in
 * config.txt; the device appears as iio:deviceN with a `name` attribute (bme280, bmp280, bme680). N depends on probe
 * order, so `findIio` can look it up by name.
 */
export class LinuxIio implements Iio {
  readonly name: string
  readonly dir: string

  constructor(dir: string, name: string) {
    this.dir = dir
    this.name = name
  }

  readAttr(attr: string): Promise<string> {
    return readFile(join(this.dir, attr), 'utf8')
  }
}

/** Open `spec`: `iio:deviceN` (under `root`) or an absolute directory. Throws ERR_SENSOR if it has no `name`. */
export function openIio(spec: string, root: string = DEFAULT_IIO_ROOT): LinuxIio {
  const dir = isAbsolute(spec) ? spec : join(root, spec)
  let name: string
  try {
    name = readFileSync(join(dir, 'name'), 'utf8').trim()
  } catch (err) {
    throw new DaneelError('ERR_SENSOR', `no IIO device at ${dir} (is the overlay loaded: dtoverlay=i2c-sensor,bme280?)`, { cause: err })
  }
  return new LinuxIio(dir, name)
}

/** The first IIO device whose `name` is one of `names` (e.g. ['bme280', 'bme680']), or undefined. */
export function findIio(names: readonly string[], root: string = DEFAULT_IIO_ROOT): LinuxIio | undefined {
  let entries: string[]
  try {
    entries = readdirSync(root)
      .filter((e) => e.startsWith('iio:device'))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  } catch {
    return undefined
  }
  for (const e of entries) {
    try {
      const name = readFileSync(join(root, e, 'name'), 'utf8').trim()
      if (names.includes(name)) return new LinuxIio(join(root, e), name)
    } catch {
      // not readable: skip
    }
  }
  return undefined
}
