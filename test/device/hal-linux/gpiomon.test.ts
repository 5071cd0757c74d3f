/** GpiomonGpio against stand-in gpiomon/gpiofind/gpioget executables printing libgpiod v1 and v2 output formats. */
import assert from 'node:assert/strict'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { openGpiomon, parseGpiomonLine } from '../../../device/hal-linux/gpiomon.js'
import type { Level } from '../../../sensors/hal.js'
import { isDaneelError } from '../../../src/errors.js'
import { makeTempDir } from '../../../testkit/paths.js'

const tmp = makeTempDir('daneel-gpiomon-')
after(() => tmp.cleanup())

/** A shell script standing in for a libgpiod tool: records its argv, prints `out`, then waits to be killed. */
function tool(name: string, body: string): string {
  const p = join(tmp.dir, name)
  writeFileSync(p, `#!/bin/sh\necho "$@" >> "${p}.args"\n${body}\n`)
  chmodSync(p, 0o755)
  return p
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

test('line parsing: v1 "%e %s %n" (ns not zero-padded), v2 "%e %S"; banners ignored', () => {
  assert.deepEqual(parseGpiomonLine('0 1234 5000000', 1), [0, 1234_005_000])
  assert.deepEqual(parseGpiomonLine('1 1234 999999999', 1), [1, 1234_999_999])
  assert.deepEqual(parseGpiomonLine('2 1234.005000000', 2), [0, 1234_005_000])
  assert.deepEqual(parseGpiomonLine('1 86400.000000001', 2), [1, 86_400_000_000])
  assert.equal(parseGpiomonLine("Monitoring line 'GPIO17'...", 2), null)
  assert.equal(parseGpiomonLine('', 1), null)
  assert.equal(parseGpiomonLine('2 12 34', 1), null)
})

test('v2: requests the line by name with a banner, forwards kernel-stamped edges, close kills it', async () => {
  const mon = tool(
    'gpiomon2',
    [
      'if [ "$1" = "--version" ]; then echo "gpiomon (libgpiod) v2.1.2"; exit 0; fi',
      'echo "Monitoring line \'GPIO17\'..."',
      'sleep 0.1',
      'printf "2 100.000000000\\n1 100.030000000\\n2 101.5"',
      'sleep 0.05',
      'printf "00000000\\n1 101.520000000\\n"',
      'echo $$ > "$0.pid"',
      'exec sleep 30',
    ].join('\n'),
  )
  const get = tool('gpioget2', 'echo \'"GPIO17"=active\'')
  const gpio = await openGpiomon(17, { gpiomon: mon, gpioget: get })
  assert.equal(gpio.major, 2)
  assert.equal(gpio.read(), 1)
  const seen: Array<[Level, number]> = []
  gpio.watch((l, t) => seen.push([l, t]))
  for (let i = 0; i < 100 && seen.length < 4; i++) await sleep(20)
  assert.deepEqual(seen, [
    [0, 100_000_000],
    [1, 100_030_000],
    [0, 101_500_000],
    [1, 101_520_000],
  ])
  assert.equal(gpio.read(), 1)
  assert.match(readFileSync(`${mon}.args`, 'utf8'), /--banner -F %e %S -e both GPIO17/)
  assert.match(readFileSync(`${get}.args`, 'utf8'), /^GPIO17$/m)
  const pid = Number(readFileSync(`${mon}.pid`, 'utf8'))
  gpio.close()
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(20)
  assert.equal(isAlive(pid), false)
})

test('v1: resolves GPIO17 with gpiofind, line-buffered custom format, falling-only flag', async () => {
  const mon = tool(
    'gpiomon1',
    [
      'if [ "$1" = "--version" ]; then echo "gpiomon (libgpiod) v1.6.3"; exit 0; fi',
      'printf "0 55 7000\\n1 55 10007000\\n"',
      'exec sleep 30',
    ].join('\n'),
  )
  const find = tool('gpiofind1', 'echo "gpiochip0 17"')
  const get = tool('gpioget1', 'echo 0')
  const gpio = await openGpiomon(17, { gpiomon: mon, gpiofind: find, gpioget: get, edge: 'falling' })
  assert.equal(gpio.major, 1)
  const seen: Array<[Level, number]> = []
  gpio.watch((l, t) => seen.push([l, t]))
  for (let i = 0; i < 100 && seen.length < 2; i++) await sleep(20)
  assert.deepEqual(seen, [
    [0, 55_000_007],
    [1, 55_010_007],
  ])
  assert.match(readFileSync(`${mon}.args`, 'utf8'), /-b -F %e %s %n -f gpiochip0 17/)
  assert.match(readFileSync(`${get}.args`, 'utf8'), /gpiochip0 17/)
  gpio.close()
})

test('failures are ERR_GPIO: not installed, line busy, gpiomon dying later', async () => {
  await assert.rejects(
    openGpiomon(17, { gpiomon: join(tmp.dir, 'nope') }),
    (e) => isDaneelError(e, 'ERR_GPIO') && /apt install gpiod/.test(e.message),
  )
  const busy = tool(
    'gpiomonbusy',
    [
      'if [ "$1" = "--version" ]; then echo "gpiomon (libgpiod) v2.1.2"; exit 0; fi',
      'echo "gpiomon: unable to request lines on chip \'/dev/gpiochip0\': Device or resource busy" >&2',
      'exit 1',
    ].join('\n'),
  )
  await assert.rejects(
    openGpiomon(4, { gpiomon: busy, gpioget: tool('g', 'exit 1') }),
    (e) => isDaneelError(e, 'ERR_GPIO') && /EBUSY/.test(e.message),
  )
  const dies = tool(
    'gpiomondies',
    [
      'if [ "$1" = "--version" ]; then echo "gpiomon (libgpiod) v2.1.2"; exit 0; fi',
      'echo "Monitoring line \'GPIO4\'..."',
      'sleep 0.2',
      'exit 1',
    ].join('\n'),
  )
  const gpio = await openGpiomon(4, { gpiomon: dies, gpioget: tool('g2', 'exit 1') })
  assert.equal(gpio.read(), 1)
  for (let i = 0; i < 100 && gpio.lastError === null; i++) await sleep(20)
  assert.throws(
    () => gpio.read(),
    (e) => isDaneelError(e, 'ERR_GPIO'),
  )
  gpio.close()
  assert.ok(existsSync(`${dies}.args`))
})

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
