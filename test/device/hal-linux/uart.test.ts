/** LinuxUart end to end through a socat pseudo-terminal pair: raw bytes both ways, real drivers, errors. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { type LinuxUart, openUart } from '../../../device/hal-linux/uart.js'
import { systemTimerClock } from '../../../sensors/hal.js'
import { Mhz19b } from '../../../sensors/mhz19/mhz19b.js'
import { Pms5003 } from '../../../sensors/pms5003/pms5003.js'
import { Readings } from '../../../sensors/readings.js'
import { Sds011 } from '../../../sensors/sds011/sds011.js'
import { isDaneelError } from '../../../src/errors.js'
import { fixturePath, makeTempDir } from '../../../testkit/paths.js'
import { type PtyPair, startPtyPair } from './pty-pair.js'

const fixture = (name: string) => JSON.parse(readFileSync(fixturePath(`sensors/${name}.json`), 'utf8'))
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const tmp = makeTempDir('daneel-uart-')
const pairs: PtyPair[] = []
const uarts: LinuxUart[] = []
async function pair(): Promise<PtyPair> {
  const dir = join(tmp.dir, `pair${pairs.length}`)
  mkdirSync(dir)
  const p = await startPtyPair(dir)
  pairs.push(p)
  return p
}
after(async () => {
  for (const u of uarts) u.close()
  for (const p of pairs) await p.stop()
  tmp.cleanup()
})

test('all 256 byte values pass unchanged in both directions (raw 8N1: no CR/LF mapping, no XON/XOFF, no ISIG)', async () => {
  const p = await pair()
  const uart = await openUart(p.device, { baud: 19200 })
  uarts.push(uart)
  // The settings really landed on the device (read back independently with stty; a pty keeps but ignores the speed).
  const settings = execFileSync('stty', ['-F', p.device, '-a']).toString()
  assert.match(settings, /speed 19200 baud/)
  for (const flag of ['-icrnl', '-ixon', '-opost', '-isig', '-icanon', '-echo', 'cs8', '-parenb', '-cstopb', '-crtscts']) {
    assert.ok(settings.split(/[\s;]+/).includes(flag), `${flag} in ${settings}`)
  }
  const all = Uint8Array.from({ length: 256 }, (_, i) => i)
  let got = Buffer.alloc(0)
  uart.onData((c) => {
    got = Buffer.concat([got, c])
  })
  p.send(all)
  const t0 = Date.now()
  while (got.length < 256 && Date.now() - t0 < 5000) await sleep(10)
  assert.equal(got.toString('hex'), Buffer.from(all).toString('hex'))
  uart.write(all)
  await p.until((b) => b.length >= 256)
  assert.equal(p.received().toString('hex'), Buffer.from(all).toString('hex'))
})

test('PMS5003 over the pty: commands arrive, noisy split frames decode, sleep on stop', async () => {
  const p = await pair()
  const uart = await openUart(p.device)
  uarts.push(uart)
  const pms = new Pms5003(uart, systemTimerClock, { id: 'pm', warmupMs: 0, timeoutMs: 60_000 })
  const out = new Readings()
  pms.start()
  const cmds = fixture('pms5003').commands
  await p.until((b) => b.toString('hex') === cmds.wake + cmds.modeActive)
  assert.equal(pms.sample(out), 'none')
  const frames: string[] = fixture('pms5003').frames
  // Garbage (including a lone 0x42 0x4D), then a frame split in three writes, then a whole one.
  p.send('00424d0042')
  const f0 = Buffer.from(frames[0] as string, 'hex')
  p.send(f0.subarray(0, 5))
  await sleep(30)
  p.send(f0.subarray(5, 20))
  await sleep(30)
  p.send(f0.subarray(20))
  const t0 = Date.now()
  let r = pms.sample(out)
  while (r !== 'fresh' && Date.now() - t0 < 5000) {
    await sleep(10)
    r = pms.sample(out)
  }
  assert.equal(r, 'fresh')
  assert.equal(out.pm25, 8)
  assert.equal(out.n03, 210)
  p.send(frames[9] as string)
  assert.equal(await fresh(pms, out), 'fresh')
  assert.equal(out.pm25, 5)
  pms.stop()
  await p.until((b) => b.toString('hex').endsWith(cmds.sleep))
  assert.equal(pms.status.health, 'ok')
})

async function fresh(driver: { sample(o: Readings): string }, out: Readings): Promise<string> {
  const t0 = Date.now()
  let r = driver.sample(out)
  while (r !== 'fresh' && Date.now() - t0 < 5000) {
    await sleep(10)
    r = driver.sample(out)
  }
  return r
}

test('SDS011 over the pty in query mode: wake, query mode, a query per poll answered with captured frames', async () => {
  const p = await pair()
  const uart = await openUart(p.device)
  uarts.push(uart)
  const fx = fixture('sds011')
  const sds = new Sds011(uart, systemTimerClock, { id: 'sds', mode: 'passive', warmupMs: 0, pollMs: 100 })
  const out = new Readings()
  sds.start()
  await p.until((b) => b.toString('hex') === fx.commands.wake + fx.commands.modeQuery)
  // Wake-up garbage first (some units send it: lewapek/sds-dust-sensors-arduino-library#6), then the replies.
  p.send('aaaac5ff00')
  sds.sample(out) // running: the first query goes out
  await p.until((b) => b.toString('hex').endsWith(fx.commands.query))
  p.send(fx.frames[1])
  assert.equal(await fresh(sds, out), 'fresh')
  assert.equal(out.pm25, 0.9)
  assert.equal(out.pm10, 0.9)
  sds.stop()
  await p.until((b) => b.toString('hex').endsWith(fx.commands.sleep))
})

test('MH-Z19B over the pty: ABC off, read command, captured reply decoded', async () => {
  const p = await pair()
  const uart = await openUart(p.device)
  uarts.push(uart)
  const fx = fixture('mhz19b')
  const co2 = new Mhz19b(uart, systemTimerClock, { id: 'co2', warmupMs: 0, pollMs: 100 })
  const out = new Readings()
  co2.start()
  await p.until((b) => b.toString('hex') === fx.commands.abcOff)
  co2.sample(out)
  await p.until((b) => b.toString('hex').endsWith(fx.commands.read))
  // The reply split across two writes, after a stray 0xFF.
  p.send(`ff${fx.frames[9].slice(0, 6)}`)
  await sleep(20)
  p.send(fx.frames[9].slice(6))
  assert.equal(await fresh(co2, out), 'fresh')
  assert.equal(out.co2, 633)
  co2.stop()
})

test('errors: a missing device, a file that is not a tty, an unsupported speed are ERR_UART', async () => {
  await assert.rejects(openUart(join(tmp.dir, 'nope')), (e) => isDaneelError(e, 'ERR_UART') && /no such device/.test(e.message))
  const file = join(tmp.dir, 'plain')
  writeFileSync(file, '')
  await assert.rejects(openUart(file), (e) => isDaneelError(e, 'ERR_UART') && /not a terminal/.test(e.message))
  await assert.rejects(openUart(file, { baud: 9601 }), (e) => isDaneelError(e, 'ERR_UART') && /unsupported speed/.test(e.message))
})

test('the peer going away is reported through onError (E_IO for the driver)', async () => {
  const p = await pair()
  const uart = await openUart(p.device)
  uarts.push(uart)
  const pms = new Pms5003(uart, systemTimerClock, { id: 'pm', warmupMs: 0 })
  pms.start()
  pms.sample(new Readings())
  await p.stop()
  const t0 = Date.now()
  while (pms.status.lastFault !== 'E_IO' && Date.now() - t0 < 5000) await sleep(10)
  assert.equal(pms.status.lastFault, 'E_IO')
})
