/** The device's real platform: the validating DNS resolver (DNS_SERVER, DNSSEC_TRUST_ANCHORS), PKIX-CD and the Linux HAL (hal-linux). */
import { existsSync } from 'node:fs'
import { createPeerTrust } from '../settings/peers.js'
import { linuxClock } from '../src/clock.js'
import type { Logger } from '../src/log.js'
import { openGpio } from './hal-linux/gpio.js'
import { openIio } from './hal-linux/iio.js'
import { openUart } from './hal-linux/uart.js'
import type { DeviceDeps, DeviceSettings } from './start.js'

/** Builds the parts only a real device has: the resolver and the hal-linux UART (stty), GPIO (onoff, sysfs mapping) and IIO. */
/**
 * No earlier than this release: where systemd-timesyncd runs the clock counts as synchronised only once it says so
 * (or, with DANEEL_TIME_SYNC_FILE, once that file exists); elsewhere (chrony, a container) once the time is past this
 * (src/clock.ts linuxClock).
 */
const RELEASE_NOT_BEFORE = Date.UTC(2026, 10, 1)

export async function linuxDeps(settings: DeviceSettings, log: Logger): Promise<DeviceDeps> {
  const clock = linuxClock({ notBefore: RELEASE_NOT_BEFORE, exists: existsSync, syncFile: settings.timeSyncFile })
  // PKIX-CD: the zone's CA over Web-PKI HTTPS, its host resolved through the same validating resolver.
  const { resolver, pkixCd } = createPeerTrust(settings, { clock, log })
  log.debug('resolver ready', { servers: settings.dnsServers ?? 'resolv.conf', mode: settings.dnssecMode })
  return {
    clock,
    tlsa: resolver,
    pkixCd,
    hal: {
      uart: (port, baud) => openUart(port, { baud }),
      gpio: (pin, sysfsRoot) => openGpio(pin, { sysfsRoot }),
      iio: async (spec) => openIio(spec),
    },
  }
}
