#!/usr/bin/env node
/** The `daneel` binary: dispatches to one module per command (cli/commands/<name>.ts), loaded lazily. */
import { reportError } from '../settings/report-error.js'
import { VERSION } from '../src/version.js'
import { withHelpHint } from './args.js'

export interface CommandModule {
  /** One line for `daneel --help`. */
  readonly summary: string
  /** Runs the command; returns the exit status (0 ok, 1 a check failed, 2 usage or input error). */
  run(argv: string[]): Promise<number>
}

/** Command names and their one-line summaries (shown even when a command fails to load). */
export const COMMANDS: Record<string, string> = {
  identity: 'keys, CSR, self-signed certificate, TLSA record, self-check, rollover',
  lookup: 'the validated TLSA RRset of a name (secure, insecure, bogus, indeterminate)',
  seal: 'seal stdin to a recipient (JWS inside JWE) and write it to stdout',
  open: 'open a sealed message from stdin and print what it says and who sent it',
  send: 'publish one sealed message to a recipient over MQTT',
  listen: 'receive, open and print authenticated messages as JSON lines',
  gateway: 'store every verified reading exactly once; serve a dashboard, a JSON API and metrics',
  run: 'the device runtime: sensors to sealed MQTT publications',
  provision: 'first-boot provisioning over a serial line (or --stdio)',
  monitor: 'DANE health checks for devices and TLS/SMTP services',
  demo: 'everything on loopback: embedded broker, DNS, two simulated nodes, a receiver',
  sensor: "a sensor's one-off commands: the MH-Z19B zero-point calibration",
}

/** Loaded lazily so `daneel seal` never pays for the demo; esbuild bundles every file the pattern matches. */
const load = (name: string): Promise<CommandModule> => import(`./commands/${name}.js`) as Promise<CommandModule>

async function usage(): Promise<string> {
  const lines = ['Usage: daneel <command> [options]   (daneel <command> --help for details)', '', 'Commands:']
  for (const [name, summary] of Object.entries(COMMANDS)) {
    lines.push(`  ${name.padEnd(10)} ${summary}`)
  }
  lines.push('', 'Exit status: 0 ok, 1 a check failed, 2 usage or input error.')
  return lines.join('\n')
}

/** Maps an error to an exit status and prints one clear line (settings/report-error.ts; the cause only with DANEEL_DEBUG=1). */
export { reportError }

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${await usage()}\n`)
    return name === undefined ? 2 : 0
  }
  if (name === '--version') {
    process.stdout.write(`daneel ${VERSION}\n`)
    return 0
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    process.stderr.write(`daneel: unknown command '${name}'\n${await usage()}\n`)
    return 2
  }
  let mod: CommandModule
  try {
    mod = await load(name)
  } catch (err) {
    process.stderr.write(`daneel: command '${name}' is not available in this build\n`)
    if (process.env.DANEEL_DEBUG === '1') process.stderr.write(`${String(err)}\n`)
    return 2
  }
  try {
    return await mod.run(rest)
  } catch (err) {
    return reportError(withHelpHint(err))
  }
}

const isEntry = process.argv[1] !== undefined && /(?:^|[\\/])(?:main\.js|daneel(?:\.c?js)?)$/.test(process.argv[1])
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err) => {
      process.exitCode = reportError(err)
    },
  )
}
