/** Turn sysfs GPIO errno errors (EINVAL, EBUSY, EACCES, ...) into ERR_GPIO errors that say what to do. */
import { DaneelError } from '../../src/errors.js'
import type { GpioMapping } from './gpio-map.js'

/** What we were doing when it failed. */
export type GpioOp = 'load' | 'export' | 'read' | 'watch' | 'unexport'

/**
 * Causes (kernel docs userspace-api/gpio/sysfs and the onoff issues cited): EINVAL at export is the wrong number (the 512+ base, fivdi/onoff#200,
 * raspberrypi/linux#6084) or a line the chip does not have; EBUSY is a line claimed by a kernel driver, an overlay or
 * a libgpiod request (fivdi/onoff#95, #43, #180); EACCES is a user outside the `gpio` group, or the udev race right
 * after export; ENOENT is a kernel without sysfs GPIO; EPERM on watch is epoll on something that is not a sysfs value
 * file.
 */
export function translateGpioError(err: unknown, op: GpioOp, m: GpioMapping | null): DaneelError {
  if (err instanceof DaneelError) return err
  const code = (err as NodeJS.ErrnoException | null)?.code
  const pin = m === null ? 'GPIO' : `BCM ${m.bcm} (sysfs ${m.sysfs} = ${m.chip.name} [${m.chip.label}] base ${m.chip.base} + ${m.bcm})`
  let why: string
  switch (code) {
    case 'EINVAL':
      why = `${pin}: the kernel rejected the number (EINVAL). On kernels 6.6+ and the Pi 5 sysfs numbers are base + BCM with a base of 512 or more; this mapping read the base from sysfs, so check the pin exists on this board`
      break
    case 'EBUSY':
      why = `${pin} is in use (EBUSY): a kernel driver or overlay (dtoverlay, leds-gpio, w1-gpio) or another process (libgpiod, a second daneel) holds it; free it or choose another pin`
      break
    case 'EACCES':
    case 'EPERM':
      why =
        op === 'watch'
          ? `${pin}: cannot watch edges (${code}): the value file does not support interrupts`
          : `${pin}: permission denied (${code}): run as a member of the gpio group (Pi OS udev rules); right after export the rules may not have applied yet, retry`
      break
    case 'ENOENT':
      why = `${pin}: sysfs GPIO not found (ENOENT): this kernel has no /sys/class/gpio (CONFIG_GPIO_SYSFS off) or it is not mounted in this container`
      break
    case 'ERR_MODULE_NOT_FOUND':
    case 'MODULE_NOT_FOUND':
      why =
        'the optional dependency onoff is not installed (npm install onoff; its epoll addon needs g++, python3 and Node headers on the device)'
      break
    case 'ERR_DLOPEN_FAILED':
      why =
        'onoff\'s native epoll addon failed to load (an "invalid ELF header" means node_modules was copied from another architecture: reinstall on the device)'
      break
    default:
      why = `${pin}: ${op} failed: ${(err as Error | null)?.message ?? String(err)}`
  }
  return new DaneelError('ERR_GPIO', why, { cause: err })
}
