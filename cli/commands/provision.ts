/** `daneel provision`: first-boot provisioning over a serial line (`--serial PATH`), a terminal (`--stdio`), or unattended (`--first-boot`). */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { openUart } from '../../device/hal-linux/uart.js'
import type { EnvSettings } from '../../provisioning/env-file.js'
import { SETTABLE_KEYS } from '../../provisioning/env-file.js'
import { firstBoot } from '../../provisioning/first-boot.js'
import { createIdentityOps } from '../../provisioning/identity.js'
import { type ConsoleEnd, type LineIo, openSerial, openStdio, runConsole } from '../../provisioning/serial-console.js'
import { ProvisionSession } from '../../provisioning/session.js'
import { ENV_FILE, type KeyType } from '../../provisioning/state.js'
import { resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS } from '../../settings/settings.js'
import { DaneelError } from '../../src/errors.js'
import { parseCommand, usageError } from '../args.js'

export const summary = 'first-boot provisioning over a serial line (or --stdio)'

const HELP = `Usage: daneel provision --serial PATH [--baud N] | --stdio | --first-boot [--key-type p256|rsa2048] [--no-wait]

Interactive (--serial, --stdio): a line protocol a person can type and a script can drive with JSON lines.
Type help on the line for the commands: status, set KEY VALUE, create, tlsa, csr, install, check, finish.
Settings go to CRYPTO_PATH/${ENV_FILE} (read by daneel.service through EnvironmentFile=); progress to
CRYPTO_PATH/provision.json; finish links CRYPTO_PATH/provisioned.key.pem to the key. Every step is written
atomically: after a power cut, run it again and it resumes. Nothing secret is ever written to the line.

Unattended (--first-boot, the Balena block): create the identity from DANE_ID if it is missing, print its TLSA
record (and the PKIX-CD URL when NO_DNSSEC), then wait until DNS serves a matching record.

  --serial PATH        the serial device (e.g. /dev/ttyGS0, /dev/serial0); opened raw, without echo
  --baud N             line speed for a UART (default 115200; ignored by USB gadget serial)
  --stdio              use this terminal (stdin/stdout) instead
  --idle-timeout SEC   drop a half-typed line or PEM paste after SEC seconds of silence (default 600)
  --once               --serial: exit 1 after quit or a disconnect (default: offer the console again)
  --first-boot         unattended first start (see above)
  --key-type TYPE      p256 (default) or rsa2048, for --first-boot
  --no-wait            --first-boot: check DNS once instead of waiting

Exit status: 0 finished (or the identity matches DNS), 1 left unfinished (--stdio, --once), 2 usage error.

${SETTINGS_HELP}`

const OPTIONS = {
  ...SETTINGS_OPTIONS,
  serial: { type: 'string' },
  baud: { type: 'string' },
  stdio: { type: 'boolean' },
  'idle-timeout': { type: 'string' },
  'first-boot': { type: 'boolean' },
  'key-type': { type: 'string' },
  'no-wait': { type: 'boolean' },
  once: { type: 'boolean' },
} as const

/** The settings the environment already gives (the unit's Environment= or the block's env vars). */
function settingsFromEnv(env: NodeJS.ProcessEnv): EnvSettings {
  const out: EnvSettings = {}
  for (const k of SETTABLE_KEYS) if (env[k] !== undefined && env[k] !== '') out[k] = env[k]
  if (out.DANE_ID === undefined && env.IDENTITY_NAME !== undefined && env.IDENTITY_NAME !== '') out.DANE_ID = env.IDENTITY_NAME
  return out
}

/** Checks a would-be configuration with the same rules every command applies to its environment. */
export function validateSettings(settings: EnvSettings): void {
  const s = resolveSettings({}, { ...settings } as NodeJS.ProcessEnv)
  if (
    s.daneId !== undefined &&
    !/^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)+$/.test(s.daneId)
  ) {
    throw new DaneelError('ERR_NAME_INVALID', `DANE_ID '${s.daneId}' is not a DNS name`)
  }
}

function positiveInt(name: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt
  if (!/^\d+$/.test(raw)) throw new DaneelError('ERR_USAGE', `${name} must be a whole number, not '${raw}'`)
  return Number(raw)
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, HELP, 0)
  if (parsed === undefined) return 0
  const v = parsed.values
  const modes = [v.serial !== undefined, v.stdio === true, v['first-boot'] === true].filter(Boolean).length
  if (modes !== 1) throw usageError(HELP, `choose one of --serial PATH, --stdio or --first-boot`)
  const settings = resolveSettings(v, process.env)
  // The self-check asks DNS the way this command was told to (flags, else env), unless the env file says otherwise.
  const dns = {
    ...(settings.dnsServers === undefined ? {} : { DNS_SERVER: settings.dnsServers.join(',') }),
    ...(settings.trustAnchorsFile === undefined ? {} : { DNSSEC_TRUST_ANCHORS: settings.trustAnchorsFile }),
    DNSSEC: settings.dnssecMode,
  }
  const identity = createIdentityOps({ dns })

  if (v['first-boot'] === true) {
    const keyType = (v['key-type'] ?? 'p256') as KeyType
    if (keyType !== 'p256' && keyType !== 'rsa2048')
      throw new DaneelError('ERR_USAGE', `--key-type must be p256 or rsa2048, not '${keyType}'`)
    const envSettings = settingsFromEnv(process.env)
    if (settings.daneId !== undefined) envSettings.DANE_ID = settings.daneId
    if (settings.noDnssec) envSettings.NO_DNSSEC = '1'
    if (v.dns !== undefined) envSettings.DNS_SERVER = v.dns
    if (v['trust-anchors'] !== undefined) envSettings.DNSSEC_TRUST_ANCHORS = v['trust-anchors']
    return firstBoot({
      cryptoPath: settings.cryptoPath,
      settings: envSettings,
      keyType,
      uid: settings.appUid,
      identity,
      wait: v['no-wait'] !== true,
      write: (line) => process.stdout.write(`${line}\n`),
    })
  }

  const session = new ProvisionSession({ cryptoPath: settings.cryptoPath, uid: settings.appUid, identity, validate: validateSettings })
  const idleMs = positiveInt('--idle-timeout', v['idle-timeout'], 600) * 1000
  const banner = `daneel provisioning (${join(settings.cryptoPath, ENV_FILE)}): type help; scripts send JSON lines, e.g. {"op":"hello"}`
  const runOnce = async (io: LineIo): Promise<ConsoleEnd> => {
    try {
      return await runConsole(io, session, { idleMs, banner })
    } finally {
      io.close()
    }
  }
  if (v.serial === undefined) return (await runOnce(openStdio())) === 'finished' ? 0 : 1
  // On a serial line the console outlives its operators: after `quit` or a host disconnect (end of input) it
  // is offered again, so the unit stays active until `finish` (its exit 0 then starts daneel.service).
  const baud = positiveInt('--baud', v.baud, 115200)
  // A path that names no device is the operator's input, not a fault of the line (exit 2, not 1).
  if (!existsSync(v.serial))
    throw new DaneelError('ERR_IO', `cannot open ${v.serial}: no such device (is the UART enabled, or the USB gadget or adapter there?)`)
  for (;;) {
    const end = await runOnce(await openSerial((path, speed) => openUart(path, { baud: speed }), v.serial, baud))
    if (end === 'finished') return 0
    if (v.once === true) return 1
    await new Promise((r) => setTimeout(r, 1000))
  }
}
