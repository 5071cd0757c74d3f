/** `daneel sensor calibrate ID --zero` through a socat pseudo-terminal to the MH-Z19B emulator: 0x87 only once outdoor air is confirmed. */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, constants, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type LinuxUart, openUart } from '../../device/hal-linux/uart.js'
import { Mhz19bEmulator } from '../../sensors/fakes/mhz19b-emulator.js'
import { systemTimerClock } from '../../sensors/hal.js'
import { cliPath, fixturePath, makeTempDir } from '../../testkit/paths.js'

/** The manual's zero-point command, from the fixture (Winsen MH-Z19B manual v1.6), not from our encoder. */
const ZERO = (JSON.parse(readFileSync(fixturePath('sensors/mhz19b.json'), 'utf8')) as { commands: { zero: string } }).commands.zero
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const tmp = makeTempDir('daneel-calibrate-')
const ttyDev = join(tmp.dir, 'ttyDEV')
const ttySensor = join(tmp.dir, 'ttySENSOR')
const configPath = join(tmp.dir, 'device.json')
let socat: ChildProcess | undefined
let line: LinuxUart | undefined
let holdFd = -1
let chip: Mhz19bEmulator

before(async () => {
  socat = spawn('socat', [`pty,raw,echo=0,link=${ttyDev}`, `pty,raw,echo=0,link=${ttySensor}`], { stdio: 'ignore' })
  const t0 = Date.now()
  while (!(existsSync(ttyDev) && existsSync(ttySensor))) {
    if (Date.now() - t0 > 5000) throw new Error('socat did not create the pty pair')
    await sleep(20)
  }
  await sleep(50)
  // A real UART outlives the processes that open it; a pty whose last user closes it hangs up, and socat then ends.
  holdFd = openSync(ttyDev, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK)
  // The chip's end of the line: bytes from the pty go to the emulator, its replies back to the pty.
  const sensorEnd = await openUart(ttySensor)
  line = sensorEnd
  const bridge = { onWrite: null as ((b: Uint8Array) => void) | null, deliver: (b: Uint8Array) => sensorEnd.write(b) }
  sensorEnd.onData((c) => bridge.onWrite?.(c))
  chip = new Mhz19bEmulator(bridge, systemTimerClock)
  writeFileSync(
    configPath,
    JSON.stringify({
      version: 1,
      recipients: ['gw._device.example.com'],
      sensors: [
        { id: 'co2', type: 'mhz19b', port: ttyDev },
        { id: 'pm', type: 'pms5003', port: join(tmp.dir, 'ttyPM') },
      ],
    }),
  )
})

after(async () => {
  chip?.close()
  line?.close()
  if (holdFd >= 0) closeSync(holdFd)
  if (socat !== undefined && socat.exitCode === null) {
    const exited = new Promise((r) => socat?.once('exit', r))
    socat.kill('SIGTERM')
    await exited
  }
  tmp.cleanup()
})

/** Runs the CLI with stdin a pipe (not a terminal), collecting its output. */
function daneel(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cliPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    p.stdin.end()
    p.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

/**
 * Runs the CLI on a terminal: socat gives it a pty as stdin, stdout and stderr (the prompt and the answer's echo
 * come back as `output`), types `answer` and a newline once asked; socat ends when the CLI exits (the pty closes).
 */
function daneelOnTerminal(args: string[], answer: string): Promise<{ output: string }> {
  return new Promise((resolve) => {
    const cmd = [process.execPath, cliPath, ...args].join(' ')
    const p = spawn('socat', ['-', `EXEC:${cmd},pty,setsid,ctty,stderr`], { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    let stderr = ''
    let answered = false
    // socat runs until its own stdin ends: end it once the CLI has said how it ended (it exits right after).
    const check = (): void => {
      if (!answered && (output + stderr).includes('[y/N]')) {
        answered = true
        p.stdin.write(`${answer}\n`)
      }
      if (/sent the zero-point|nothing was sent|\[ERR_/.test(output + stderr) && !p.stdin.writableEnded)
        setTimeout(() => p.stdin.end(), 200)
    }
    p.stdout.on('data', (d: Buffer) => {
      output += d.toString()
      check()
    })
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      check()
    })
    const guard = setTimeout(() => p.kill('SIGTERM'), 20_000)
    p.on('close', () => {
      clearTimeout(guard)
      resolve({ output: output + stderr })
    })
  })
}

/** Waits a while for stray bytes, so "nothing written" is not just "not yet". */
async function settle(): Promise<void> {
  await sleep(300)
}

describe('daneel sensor calibrate --zero', () => {
  it('refuses without the outdoor-air confirmation when stdin is not a terminal: exit 2, one line, nothing on the wire', async () => {
    const r = await daneel(['sensor', 'calibrate', 'co2', '--zero', '--config', configPath])
    assert.equal(r.status, 2, r.stderr)
    assert.match(
      r.stderr,
      /^daneel: not calibrating co2: confirm it has been in fresh outdoor air for 20 minutes .*nothing was sent .*\[ERR_USAGE\]\n$/,
    )
    assert.equal(r.stdout, '')
    await settle()
    assert.deepEqual(chip.commands, [])
    assert.equal(chip.zeroCalibrations, 0)
  })

  it('refuses a sensor that is not an MH-Z19B, and an unknown id, before asking anything', async () => {
    const pm = await daneel(['sensor', 'calibrate', 'pm', '--zero', '--outdoor-air', '--config', configPath])
    assert.equal(pm.status, 2)
    assert.match(pm.stderr, /^daneel: sensor pm is a pms5003: zero-point calibration is for MH-Z19B sensors only; nothing was sent/)
    const none = await daneel(['sensor', 'calibrate', 'co3', '--zero', '--outdoor-air', '--config', configPath])
    assert.equal(none.status, 2)
    assert.match(none.stderr, /^daneel: no sensor 'co3' in .* \(its sensors: co2, pm\)/)
    await settle()
    assert.deepEqual(chip.commands, [])
  })

  it('on a terminal, anything but y refuses (nothing sent); y sends', async () => {
    const no = await daneelOnTerminal(['sensor', 'calibrate', 'co2', '--zero', '--config', configPath], 'n')
    assert.match(no.output, /Has sensor co2 been in fresh outdoor air \(about 400 ppm\) for at least 20 minutes\? \[y\/N\]/)
    assert.match(no.output, /not calibrating co2: .*nothing was sent/)
    await settle()
    assert.deepEqual(chip.commands, [])

    const yes = await daneelOnTerminal(['sensor', 'calibrate', 'co2', '--zero', '--config', configPath], 'y')
    assert.match(yes.output, /sent the zero-point calibration \(FF 01 87 00 00 00 00 00 78\) to co2 on /)
    const t0 = Date.now()
    while (chip.zeroCalibrations < 1 && Date.now() - t0 < 5000) await sleep(10)
    assert.deepEqual(chip.commands, [ZERO])
    assert.equal(chip.zeroCalibrations, 1)
  })

  it("with --outdoor-air: exactly the manual's zero command on the wire (checksum 0x78), exit 0, --json says what was sent", async () => {
    const r = await daneel(['sensor', 'calibrate', 'co2', '--zero', '--outdoor-air', '--json', '--config', configPath])
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), { sensor: 'co2', port: ttyDev, command: ZERO })
    const t0 = Date.now()
    while (chip.zeroCalibrations < 2 && Date.now() - t0 < 5000) await sleep(10)
    assert.deepEqual(chip.commands, [ZERO, ZERO], 'one 9-byte command each time, nothing else')
    assert.equal(chip.zeroCalibrations, 2, 'the emulator checked the checksum')
    assert.equal(ZERO, 'ff0187000000000078')
  })
})
