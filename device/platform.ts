/** The device's real platform: the validating DNS resolver (DNS_SERVER, DNSSEC_TRUST_ANCHORS) and the Linux HAL (hal-linux). */
import type { Settings } from '../cli/settings.js'
import { systemClock } from '../src/clock.js'
import { loadTrustAnchors } from '../src/dns/dnssec/anchors.js'
import { createResolver, systemServers } from '../src/dns/resolver.js'
import type { Logger } from '../src/log.js'
import { openGpio } from './hal-linux/gpio.js'
import { openIio } from './hal-linux/iio.js'
import { openUart } from './hal-linux/uart.js'
import type { DeviceDeps } from './main.js'

/** Builds the parts only a real device has: the resolver and the hal-linux UART (stty), GPIO (onoff, sysfs mapping) and IIO. */
export async function linuxDeps(settings: Settings, log: Logger): Promise<DeviceDeps> {
  const resolver = createResolver({
    servers: settings.dnsServers ?? systemServers(),
    clock: systemClock,
    trustAnchors: loadTrustAnchors(settings.trustAnchorsFile),
    mode: settings.dnssecMode,
  })
  log.debug('resolver ready', { servers: settings.dnsServers ?? 'resolv.conf', mode: settings.dnssecMode })
  return {
    tlsa: resolver,
    hal: {
      uart: (port, baud) => openUart(port, { baud }),
      gpio: (pin, sysfsRoot) => openGpio(pin, { sysfsRoot }),
      iio: async (spec) => openIio(spec),
    },
  }
}
