/** BCM → sysfs mapping against temp-dir sysfs trees (Pi 4 base 0 and 512, Pi 5 gpiochip571), onoff errors explained. */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { type LinuxGpio, type OnoffGpio, type OnoffModule, openGpio } from '../../../device/hal-linux/gpio.js'
import { translateGpioError } from '../../../device/hal-linux/gpio-errors.js'
import { listGpioChips, mapBcmToSysfs } from '../../../device/hal-linux/gpio-map.js'
import type { Level } from '../../../sensors/hal.js'
import { isDaneelError } from '../../../src/errors.js'
import { fixturePath, makeTempDir } from '../../../testkit/paths.js'

interface Chip {
  dir: string
  label: string
  base: number
  ngpio: number
}
const fx = JSON.parse(readFileSync(fixturePath('sensors/gpio-trees.json'), 'utf8')) as { trees: Record<string, Chip[]> }
const tmp = makeTempDir('daneel-gpio-')
after(() => tmp.cleanup())

/** Lay a tree out as the kernel does: <root>/gpiochipN/{label,base,ngpio} plus export/unexport files. */
function tree(name: string): string {
  const root = join(tmp.dir, name)
  for (const c of fx.trees[name] as Chip[]) {
    mkdirSync(join(root, c.dir), { recursive: true })
    writeFileSync(join(root, c.dir, 'label'), `${c.label}\n`)
    writeFileSync(join(root, c.dir, 'base'), `${c.base}\n`)
    writeFileSync(join(root, c.dir, 'ngpio'), `${c.ngpio}\n`)
  }
  writeFileSync(join(root, 'export'), '')
  writeFileSync(join(root, 'unexport'), '')
  return root
}

const errno = (code: string, num: number, syscall: string): NodeJS.ErrnoException =>
  // Shaped as Node throws them from fs.writeFileSync (fivdi/onoff#200: "EINVAL: invalid argument, write", errno -22).
  Object.assign(new Error(`${code}: ${syscall} failed`), { code, errno: num, syscall })

/**
 * A stand-in for onoff whose "kernel" is the temp tree: export accepts only numbers inside a chip (else EINVAL, as
 * the real kernel does for the old base-0 numbers), refuses lines listed busy (EBUSY) or denied (EACCES).
 */
function fakeOnoff(root: string, opts: { busy?: number[]; denied?: number[] } = {}) {
  const pins: FakePin[] = []
  class FakePin implements OnoffGpio {
    readonly n: number
    cb: ((err: Error | null | undefined, value: number) => void) | null = null
    unexported = false
    constructor(n: number, direction: 'in', edge?: string) {
      if (!listGpioChips(root).some((c) => n >= c.base && n < c.base + c.ngpio)) throw errno('EINVAL', -22, 'write')
      if (opts.busy?.includes(n)) throw errno('EBUSY', -16, 'write')
      if (opts.denied?.includes(n)) throw errno('EACCES', -13, 'open')
      this.n = n
      writeFileSync(join(root, 'export'), String(n))
      mkdirSync(join(root, `gpio${n}`), { recursive: true })
      writeFileSync(join(root, `gpio${n}`, 'direction'), direction)
      writeFileSync(join(root, `gpio${n}`, 'edge'), edge ?? 'none')
      writeFileSync(join(root, `gpio${n}`, 'value'), '1\n')
      pins.push(this)
    }
    readSync(): number {
      return Number.parseInt(readFileSync(join(root, `gpio${this.n}`, 'value'), 'utf8'), 10)
    }
    watch(cb: (err: Error | null | undefined, value: number) => void): void {
      this.cb = cb
    }
    unwatchAll(): void {
      this.cb = null
    }
    unexport(): void {
      this.unexported = true
      rmSync(join(root, `gpio${this.n}`), { recursive: true })
    }
  }
  const mod: OnoffModule = { Gpio: FakePin }
  return { loader: async () => mod, pins }
}

test('BCM 17 maps to 17 (Pi 4, base 0), 529 (Pi 4, base 512), 588 (Pi 5, gpiochip571), 17 (Pi 3)', () => {
  assert.deepEqual(
    [tree('pi4-base0'), tree('pi4-base512'), tree('pi5'), tree('pi3')].map((r) => mapBcmToSysfs(17, r).sysfs),
    [17, 529, 588, 17],
  )
  const m = mapBcmToSysfs(4, tree('pi5'))
  assert.equal(m.chip.name, 'gpiochip571')
  assert.equal(m.chip.label, 'pinctrl-rp1')
  assert.equal(m.sysfs, 575)
  // The expander chip is never chosen, even though its base is higher.
  assert.equal(mapBcmToSysfs(0, tree('pi4-base512')).chip.label, 'pinctrl-bcm2711')
})

test('range and absence: lines past ngpio, no pin controller, no sysfs at all are ERR_GPIO', () => {
  assert.equal(mapBcmToSysfs(57, tree('pi4-base512')).sysfs, 569)
  assert.throws(
    () => mapBcmToSysfs(54, tree('pi5')),
    (e) => isDaneelError(e, 'ERR_GPIO') && /has 54 lines/.test(e.message),
  )
  assert.throws(
    () => mapBcmToSysfs(-1, tree('pi5')),
    (e) => isDaneelError(e, 'ERR_GPIO'),
  )
  assert.throws(
    () => mapBcmToSysfs(2, tree('no-pinctrl')),
    (e) => isDaneelError(e, 'ERR_GPIO') && /gpio-mockup-A/.test(e.message),
  )
  assert.throws(
    () => mapBcmToSysfs(2, join(tmp.dir, 'absent')),
    (e) => isDaneelError(e, 'ERR_GPIO') && /not available/.test(e.message),
  )
})

test('openGpio exports the mapped number; the naive base-0 number is what the Pi 5 kernel rejects with EINVAL', async () => {
  const root = tree('pi5')
  const { loader, pins } = fakeOnoff(root)
  const gpio = await openGpio(17, { sysfsRoot: root, loader })
  assert.equal(readFileSync(join(root, 'export'), 'utf8'), '588')
  assert.ok(existsSync(join(root, 'gpio588', 'value')))
  assert.equal(readFileSync(join(root, 'gpio588', 'edge'), 'utf8'), 'both')
  assert.equal(gpio.read(), 1)
  gpio.close()
  assert.equal(pins[0]?.unexported, true)
  // What onoff users hit: exporting 17 on a 6.6+ kernel.
  const Naive = (await loader()).Gpio
  assert.throws(
    () => new Naive(17, 'in', 'both'),
    (e: NodeJS.ErrnoException) => e.code === 'EINVAL',
  )
})

test('EINVAL, EBUSY and EACCES at export become ERR_GPIO saying what to do', async () => {
  const root = tree('pi4-base512')
  const { loader } = fakeOnoff(root, { busy: [512 + 18], denied: [512 + 27] })
  await assert.rejects(
    openGpio(18, { sysfsRoot: root, loader }),
    (e) => isDaneelError(e, 'ERR_GPIO') && /EBUSY/.test(e.message) && /overlay/.test(e.message) && /sysfs 530/.test(e.message),
  )
  await assert.rejects(openGpio(27, { sysfsRoot: root, loader }), (e) => isDaneelError(e, 'ERR_GPIO') && /gpio group/.test(e.message))
  // A tree that claims more lines than the kernel has (stale or wrong): the kernel's EINVAL is explained.
  const lying = join(tmp.dir, 'lying')
  mkdirSync(join(lying, 'gpiochip0'), { recursive: true })
  writeFileSync(join(lying, 'gpiochip0', 'label'), 'pinctrl-bcm2835')
  writeFileSync(join(lying, 'gpiochip0', 'base'), '0')
  writeFileSync(join(lying, 'gpiochip0', 'ngpio'), '54')
  const e = translateGpioError(errno('EINVAL', -22, 'write'), 'export', mapBcmToSysfs(5, lying))
  assert.match(e.message, /EINVAL/)
  assert.match(e.message, /512/)
  assert.equal(e.code, 'ERR_GPIO')
  assert.equal((e.cause as NodeJS.ErrnoException).code, 'EINVAL')
})

test('the real onoff is imported lazily; on this machine (no /sys/class/gpio) its export fails and is explained', async () => {
  const root = tree('pi5')
  // Which failure depends on this machine: onoff (optional, native epoll) loads, then its export write finds no
  // /sys/class/gpio; or it is not installed/built, and the error says so. Both must be an explained ERR_GPIO.
  let onoffLoads = true
  try {
    createRequire(import.meta.url)('onoff')
  } catch {
    onoffLoads = false
  }
  const expected = onoffLoads ? /sysfs GPIO not found \(ENOENT\)/ : /optional dependency onoff|epoll addon/
  await assert.rejects(openGpio(17, { sysfsRoot: root }), (e) => isDaneelError(e, 'ERR_GPIO') && expected.test(e.message))
  // When onoff is missing, the error says it is an optional dependency (a real failed dynamic import).
  const missing = async (): Promise<OnoffModule> => (await import(`${'onoff-not-installed'}`)) as OnoffModule
  await assert.rejects(
    openGpio(17, { sysfsRoot: root, loader: missing }),
    (e) => isDaneelError(e, 'ERR_GPIO') && /optional dependency onoff/.test(e.message),
  )
})

test('edges are forwarded with microsecond timestamps; unwatch stops them; watch errors are kept', async () => {
  const root = tree('pi4-base0')
  const { loader, pins } = fakeOnoff(root)
  const gpio: LinuxGpio = await openGpio(22, { sysfsRoot: root, loader })
  const seen: Array<[Level, number]> = []
  gpio.watch((level, t) => seen.push([level, t]))
  const pin = pins.at(-1)
  const t0 = performance.now() * 1000
  pin?.cb?.(null, 0)
  pin?.cb?.(null, 1)
  assert.deepEqual(
    seen.map((s) => s[0]),
    [0, 1],
  )
  assert.ok((seen[0]?.[1] as number) >= t0 && (seen[1]?.[1] as number) >= (seen[0]?.[1] as number))
  pin?.cb?.(errno('EPERM', -1, 'epoll_ctl'), 0)
  assert.equal(gpio.lastError?.code, 'ERR_GPIO')
  gpio.unwatch()
  assert.equal(pin?.cb, null)
  gpio.close()
  gpio.close()
})
