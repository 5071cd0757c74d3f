/** `daneel sensor calibrate ID --zero`: the MH-Z19B zero-point calibration (command 0x87), only once outdoor air is confirmed. */
import { createInterface } from 'node:readline'
import { loadConfig } from '../../device/config.js'
import { writeUartOnce } from '../../device/hal-linux/uart.js'
import { MHZ_CMD_ZERO } from '../../sensors/mhz19/commands.js'
import { mhz19bDescriptor } from '../../sensors/mhz19/descriptor.js'
import { DaneelError } from '../../src/errors.js'
import { parseCommand, usageError } from '../args.js'

export const summary = "a sensor's one-off commands: the MH-Z19B zero-point calibration"

/** Subcommands, for `daneel sensor --help` and the conventions table. */
export const SUBCOMMANDS: Record<string, string> = {
  calibrate: 'zero-point calibration of an MH-Z19B (--zero), once it has been in outdoor air for 20 minutes',
}

const hex = (b: Uint8Array): string =>
  Buffer.from(b)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1 ')

export const CALIBRATE_HELP = `Usage: daneel sensor calibrate ID --zero --config FILE [--outdoor-air] [--json]

Zero-point calibration of the MH-Z19B CO2 sensor ID of a device config: sends ${hex(MHZ_CMD_ZERO)}
(command 0x87, "Calibrate Zero Point (ZERO)", Winsen MH-Z19B user's manual v1.6), after which the sensor takes the
air it is in for 400 ppm. Right only when the sensor has been in fresh outdoor air for at least 20 minutes (the
manual's "Zero Point Calibration" section); anywhere else every later reading is off by the difference, until the
next calibration. Nothing is read back. Stop the device runtime first (systemctl stop daneel): two
processes on one serial line garble each other's commands.

  ID              the sensor's id in the config (an MH-Z19B; any other chip is refused)
  --zero          the zero-point calibration (the one calibration offered)
  --config FILE   the device config, as daneel run reads it: the sensor's port and speed
  --outdoor-air   confirms the sensor has been in fresh outdoor air for 20 minutes; without it a terminal is
                  asked (y/N), and otherwise nothing is sent
  --json          one JSON object: sensor, port, command (hex)

Exit status: 0 sent; 1 the write failed; 2 usage or input error (not confirmed, no such sensor, not an MH-Z19B,
no such port: nothing sent).`

const OPTIONS = {
  zero: { type: 'boolean' },
  config: { type: 'string' },
  'outdoor-air': { type: 'boolean' },
  json: { type: 'boolean' },
} as const

function usage(): string {
  const lines = ['Usage: daneel sensor <subcommand> [options]   (daneel sensor <subcommand> --help)', '', 'Subcommands:']
  for (const [name, text] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(10)} ${text}`)
  lines.push('', 'Exit status: 0 ok, 1 a check failed, 2 usage or input error.')
  return lines.join('\n')
}

/** Asks on the terminal; only "y" or "yes" confirms (the default, on Enter or end of input, is no). */
function askOutdoorAir(id: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false })
  return new Promise((resolve) => {
    let answered = false
    rl.once('line', (line) => {
      answered = true
      rl.close()
      resolve(/^\s*y(es)?\s*$/i.test(line))
    })
    rl.once('close', () => {
      if (!answered) resolve(false)
    })
    process.stderr.write(`Has sensor ${id} been in fresh outdoor air (about 400 ppm) for at least 20 minutes? [y/N] `)
  })
}

async function calibrate(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, CALIBRATE_HELP, 1)
  if (parsed === undefined) return 0
  const v = parsed.values
  if (v.zero !== true) throw usageError(CALIBRATE_HELP, '--zero is required (the zero-point calibration is the one offered)')
  const id = parsed.positionals[0]
  if (id === undefined) throw usageError(CALIBRATE_HELP, 'the sensor ID is required')
  if (v.config === undefined) throw usageError(CALIBRATE_HELP, '--config FILE is required')
  const config = loadConfig(v.config)
  const sensor = config.sensors.find((s) => s.id === id)
  if (sensor === undefined)
    throw usageError(CALIBRATE_HELP, `no sensor '${id}' in ${v.config} (its sensors: ${config.sensors.map((s) => s.id).join(', ')})`)
  if (!mhz19bDescriptor.types.includes(sensor.type) || sensor.bus !== 'uart')
    throw usageError(
      CALIBRATE_HELP,
      `sensor ${id} is a ${sensor.type}: zero-point calibration is for MH-Z19B sensors only; nothing was sent`,
    )
  let confirmed = v['outdoor-air'] === true
  if (!confirmed && process.stdin.isTTY === true) confirmed = await askOutdoorAir(id)
  if (!confirmed)
    throw usageError(
      CALIBRATE_HELP,
      `not calibrating ${id}: confirm it has been in fresh outdoor air for 20 minutes (--outdoor-air, or y on a terminal); nothing was sent`,
    )
  try {
    await writeUartOnce(sensor.port, MHZ_CMD_ZERO, { baud: sensor.baud })
  } catch (err) {
    // A port that is not there (or not ours to open) is an input error, as for provision --serial; nothing was sent.
    const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }
    const code = e.cause?.code
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'EBUSY' || /not a terminal/.test(e.message))
      throw new DaneelError('ERR_IO', `${(err as Error).message}; nothing was sent`, { cause: err })
    throw err
  }
  const result = { sensor: id, port: sensor.port, command: Buffer.from(MHZ_CMD_ZERO).toString('hex') }
  if (v.json === true) process.stdout.write(`${JSON.stringify(result)}\n`)
  else process.stdout.write(`sent the zero-point calibration (${hex(MHZ_CMD_ZERO)}) to ${id} on ${sensor.port}\n`)
  return 0
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(`${usage()}\n`)
    return sub === undefined ? 2 : 0
  }
  if (sub !== 'calibrate')
    throw new DaneelError('ERR_USAGE', `unknown sensor subcommand '${sub}' (one of: ${Object.keys(SUBCOMMANDS).join(', ')})`)
  return calibrate(rest)
}
