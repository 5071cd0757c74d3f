/** `daneel identity <sub>`: dispatches to cli/commands/identity/<sub>.ts (same shape as a command: summary + run). */
import { DaneelError } from '../../src/errors.js'
import type { CommandModule } from '../main.js'

export const summary = 'keys, CSR, self-signed certificate, TLSA record, self-check, rollover'

/** Subcommands in help order; check and rotate belong to the monitor area and may be absent from a build. */
export const SUBCOMMANDS: Record<string, string> = {
  create: 'make the key and a self-signed certificate (or --csr) under CRYPTO_PATH',
  tlsa: 'print the TLSA record to publish (zone-file line, --rdata, --json)',
  install: 'install a CA-signed certificate for this identity (checks key and name)',
  show: 'show the identity: name, key, certificate, TLSA records',
  check: "self-check: is the published TLSA identity this device's certificate?",
  rotate: 'key rollover: stage the next key, commit, finish',
}

const load = (name: string): Promise<CommandModule> => import(`./identity/${name}.js`) as Promise<CommandModule>

function usage(): string {
  const lines = ['Usage: daneel identity <subcommand> [options]   (daneel identity <subcommand> --help)', '', 'Subcommands:']
  for (const [name, text] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(8)} ${text}`)
  lines.push('', 'Exit status: 0 ok, 1 a check failed, 2 usage or input error.')
  return lines.join('\n')
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(`${usage()}\n`)
    return sub === undefined ? 2 : 0
  }
  if (!Object.hasOwn(SUBCOMMANDS, sub))
    throw new DaneelError('ERR_USAGE', `unknown identity subcommand '${sub}' (one of: ${Object.keys(SUBCOMMANDS).join(', ')})`)
  let mod: CommandModule
  try {
    mod = await load(sub)
  } catch (err) {
    throw new DaneelError('ERR_USAGE', `'daneel identity ${sub}' is not available in this build`, { cause: err })
  }
  return mod.run(rest)
}
