/** Map a BCM GPIO number to its sysfs number from each /sys/class/gpio/gpiochipN label, base and ngpio (kernel 6.6+ bases are 512+). */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DaneelError } from '../../src/errors.js'

/*
 * Why: sysfs GPIO numbers are chip base + line offset. Old Pi kernels put the SoC's chip at base 0, so BCM 17 was
 * sysfs 17; since the dynamic base moved to 512 (ARCH_NR_GPIOS removal, kernel 6.2+; Pi OS Bookworm 6.6) a Pi 4 has
 * it at 512 and a Pi 5's RP1 header chip at 571 (fivdi/onoff#199, #200; raspberrypi/linux#6084). Writing the old
 * number to `export` fails with EINVAL. So read the bases: scan gpiochip*, take the header's pin controller (label
 * pinctrl-*), add its base (the dotnet/iot#386 and onoff PR #204 approach). /sys/kernel/debug/gpio would need root.
 */

/** Header pin controllers by preference: Pi 5 (RP1), Pi 4 (BCM2711), Pi 0-3 (BCM2835). */
const KNOWN_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835']

export const DEFAULT_SYSFS_GPIO_ROOT = '/sys/class/gpio'

export interface GpioChip {
  /** Directory name, e.g. gpiochip571. */
  readonly name: string
  readonly label: string
  readonly base: number
  readonly ngpio: number
}

export interface GpioMapping {
  readonly bcm: number
  /** The number to write to `export` (what onoff takes). */
  readonly sysfs: number
  readonly chip: GpioChip
}

/** Every gpiochip under `root`, sorted by base. Throws ERR_GPIO if sysfs GPIO is absent. */
export function listGpioChips(root: string = DEFAULT_SYSFS_GPIO_ROOT): GpioChip[] {
  let names: string[]
  try {
    names = readdirSync(root).filter((n) => /^gpiochip\d+$/.test(n))
  } catch (err) {
    throw new DaneelError('ERR_GPIO', `sysfs GPIO is not available at ${root} (kernel without CONFIG_GPIO_SYSFS, or /sys not mounted)`, {
      cause: err,
    })
  }
  const chips: GpioChip[] = []
  for (const name of names) {
    const dir = join(root, name)
    try {
      const label = readFileSync(join(dir, 'label'), 'utf8').trim()
      const base = Number.parseInt(readFileSync(join(dir, 'base'), 'utf8').trim(), 10)
      const ngpio = Number.parseInt(readFileSync(join(dir, 'ngpio'), 'utf8').trim(), 10)
      if (Number.isInteger(base) && base >= 0 && Number.isInteger(ngpio) && ngpio > 0) chips.push({ name, label, base, ngpio })
    } catch {
      // A chip we cannot read is not the header's chip; keep looking.
    }
  }
  return chips.sort((a, b) => a.base - b.base)
}

/** The header's pin controller: a known label first, else any pinctrl-*, the one with the most lines. */
export function findHeaderChip(chips: readonly GpioChip[]): GpioChip | undefined {
  for (const label of KNOWN_LABELS) {
    const c = chips.find((x) => x.label === label)
    if (c !== undefined) return c
  }
  let best: GpioChip | undefined
  for (const c of chips) if (c.label.startsWith('pinctrl-') && (best === undefined || c.ngpio > best.ngpio)) best = c
  return best
}

/** BCM pin → sysfs number. Throws ERR_GPIO naming the chips it saw when it cannot. */
export function mapBcmToSysfs(bcm: number, root: string = DEFAULT_SYSFS_GPIO_ROOT): GpioMapping {
  if (!Number.isInteger(bcm) || bcm < 0) throw new DaneelError('ERR_GPIO', `invalid BCM pin number ${bcm}`)
  const chips = listGpioChips(root)
  const chip = findHeaderChip(chips)
  if (chip === undefined) {
    const seen = chips.map((c) => `${c.name} [${c.label}] base ${c.base} ngpio ${c.ngpio}`).join('; ') || 'none'
    throw new DaneelError('ERR_GPIO', `no Raspberry Pi pin controller (pinctrl-*) under ${root}; chips: ${seen}`)
  }
  if (bcm >= chip.ngpio)
    throw new DaneelError('ERR_GPIO', `BCM ${bcm} is out of range: ${chip.name} [${chip.label}] has ${chip.ngpio} lines`)
  return { bcm, sysfs: chip.base + bcm, chip }
}
