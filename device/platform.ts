/** The device's real platform: the validating DNS resolver (DNS_SERVER, DNSSEC_TRUST_ANCHORS) and the Linux HAL (hal-linux). */
import { DaneelError } from '../src/errors.js'
import type { Logger } from '../src/log.js'
import type { Settings } from '../cli/settings.js'
import { openUart } from './hal-linux/uart.js'
import type { DeviceDeps } from './main.js'

/** Builds the parts only a real device has. GPIO and IIO sensors wait for their hal-linux bindings. */
export async function linuxDeps(settings: Settings, log: Logger): Promise<DeviceDeps> {
  void log
  void settings
  return {
    tlsa: {
      lookupTlsa: () => Promise.reject(new DaneelError('ERR_DNS_SERVFAIL', 'no DNS resolver in this build yet')),
    },
    hal: {
      uart: (port, baud) => openUart(port, { baud }),
      gpio: (pin) => Promise.reject(new DaneelError('ERR_GPIO', `GPIO ${pin}: no sysfs GPIO binding in this build yet`)),
      iio: (spec) => Promise.reject(new DaneelError('ERR_SENSOR', `${spec}: no IIO binding in this build yet`)),
    },
  }
}
