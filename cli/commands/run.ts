/**
 * `daneel run --config FILE`: the device runtime (device/start.ts) in the foreground until SIGTERM/SIGINT. Also the
 * device bundle's entry (esbuild.config.mjs: dist/daneel-device.js), which runs it directly, without the dispatcher.
 */
import { isAbsolute } from 'node:path'
import { runDevice } from '../../device/start.js'
import { reportError } from '../../settings/report-error.js'
import { requireDaneId, resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS } from '../../settings/settings.js'
import { DaneelError } from '../../src/errors.js'
import { VERSION } from '../../src/version.js'
import { parseCommand, usageError } from '../args.js'
import { MQTT_HELP, MQTT_OPTIONS, mqttOptions } from './listen.js'

export const summary = 'the device runtime: sensors to sealed MQTT publications'

export const RUN_HELP = `Usage: daneel run --config FILE [settings]

The device runtime: reads the sensors the config names, seals every reading to each recipient (JWS inside JWE,
keys found by DANE), stores it in the durable outbox and publishes it over MQTT at QoS 1 on the recipient's topic.
SIGTERM/SIGINT drain the outbox (for at most drainSeconds) and exit 0; SIGHUP reloads the config (a bad one is
logged and the running config kept); SIGUSR1 logs the counters (it never starts a debugger). A broker that
refuses our credentials before the first connection ends the run (exit 1). The config's schema: device/config-schema.md.

  --config FILE           the device config (JSON)
  --time-sync-file FILE   DANEEL_TIME_SYNC_FILE: the clock counts as synchronised once FILE exists (for chrony or
                          ntpd: a hook creates it); readings are held until then (default: systemd-timesyncd's
                          /run/systemd/timesync/synchronized where timesyncd runs, else a time past the release)
  --version               print the software version and exit

Presence: retained 'online' on daneel/presence/<DANE_ID> while connected; 'offline' on a clean stop or, as the
MQTT last will, when the connection is lost. Every 10 minutes the journal gets an 'alive' line with the counters.

${MQTT_HELP}

${SETTINGS_HELP}`

const OPTIONS = {
  ...SETTINGS_OPTIONS,
  ...MQTT_OPTIONS,
  config: { type: 'string' },
  'time-sync-file': { type: 'string' }, // DANEEL_TIME_SYNC_FILE
  version: { type: 'boolean' },
} as const

/** --time-sync-file, else DANEEL_TIME_SYNC_FILE (empty: unset); absolute, since a service's working directory is /. */
function timeSyncFile(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const raw = flag ?? (env.DANEEL_TIME_SYNC_FILE === '' ? undefined : env.DANEEL_TIME_SYNC_FILE)
  if (raw === undefined) return undefined
  if (!isAbsolute(raw))
    throw new DaneelError(
      'ERR_CONFIG_INVALID',
      `${flag === undefined ? 'DANEEL_TIME_SYNC_FILE' : '--time-sync-file'} must be an absolute path, not '${raw}'`,
    )
  return raw
}

/** Parses argv and the environment, then runs the device; resolves with the exit status. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, RUN_HELP, 0)
  if (parsed === undefined) return 0
  if (parsed.values.version === true) {
    process.stdout.write(`daneel ${VERSION}\n`)
    return 0
  }
  const configPath = parsed.values.config
  if (configPath === undefined) throw usageError(RUN_HELP, `--config FILE is required`)
  const settings = resolveSettings(parsed.values, env)
  const { url: _url, ...mqtt } = mqttOptions(settings, parsed.values, env)
  const syncFile = timeSyncFile(parsed.values['time-sync-file'], env)
  return runDevice({ ...settings, daneId: requireDaneId(settings), mqtt, timeSyncFile: syncFile }, configPath, env)
}

// The device bundle (and `node build/cli/commands/run.js`) start here; under `daneel run` cli/main.ts calls run().
const entry = process.argv[1] ?? ''
if (/(?:^|[\\/])(?:commands[\\/]run\.js|daneel-device(?:\.[cm]?js)?)$/.test(entry)) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      process.exitCode = reportError(err)
    },
  )
}
