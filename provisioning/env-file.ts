/** The provisioned settings as a systemd EnvironmentFile (`${CRYPTO_PATH}/daneel.env`): parse, format, write atomically. */
import { DaneelError } from '../src/errors.js'
import { writeFileAtomic } from '../src/fsutil.js'
import { isMissingFile, MAX_CONFIG_FILE_BYTES, readTextBounded } from '../src/read-file.js'

/** The contract's variables (docs/contract.md "Environment") an operator may set over the line (the rest keep their defaults or the unit's values). */
export const SETTABLE_KEYS = [
  'DANE_ID',
  'MQTT_URL',
  'MQTT_HOST',
  'MQTT_PORT',
  'TRUSTED_DOMAINS',
  'DNS_SERVER',
  'NO_DNSSEC',
  'DNSSEC',
  'DNSSEC_TRUST_ANCHORS',
  'MAX_MESSAGE_SIZE',
] as const
export type SettableKey = (typeof SETTABLE_KEYS)[number]
export type EnvSettings = Partial<Record<SettableKey, string>>

/** Short names a person can type (`set broker mqtts://...`), mapped to the variables. */
const ALIASES: Record<string, SettableKey> = {
  'dane-id': 'DANE_ID',
  name: 'DANE_ID',
  identity_name: 'DANE_ID',
  broker: 'MQTT_URL',
  'mqtt-url': 'MQTT_URL',
  'mqtt-host': 'MQTT_HOST',
  'mqtt-port': 'MQTT_PORT',
  'trusted-domains': 'TRUSTED_DOMAINS',
  trusted: 'TRUSTED_DOMAINS',
  dns: 'DNS_SERVER',
  'dns-server': 'DNS_SERVER',
  'no-dnssec': 'NO_DNSSEC',
  dnssec: 'DNSSEC',
  'trust-anchors': 'DNSSEC_TRUST_ANCHORS',
  'max-message-size': 'MAX_MESSAGE_SIZE',
}

/**
 * Resolves a typed key (variable name or alias, any case) to a settable variable, or throws ERR_USAGE. Only own
 * entries of the alias table count: `constructor`, `__proto__` or `toString` are keys of every object's prototype,
 * and a plain lookup once answered `set constructor x` with ok.
 */
export function settableKey(raw: string): SettableKey {
  const upper = raw.trim().toUpperCase().replaceAll('-', '_')
  if ((SETTABLE_KEYS as readonly string[]).includes(upper)) return upper as SettableKey
  const lower = raw.trim().toLowerCase()
  if (Object.hasOwn(ALIASES, lower)) return ALIASES[lower] as SettableKey
  throw new DaneelError('ERR_USAGE', `unknown setting '${raw}' (one of ${SETTABLE_KEYS.join(', ')})`)
}

// A value is one line of printable text: a newline would let one setting inject another into the unit's
// environment, and systemd would silently truncate at NUL. 1 KiB is far above any real URL or domain list.
const MAX_VALUE = 1024
const PRINTABLE = /^[\x20-\x7e]*$/

/** Checks a value can be stored in an EnvironmentFile without changing meaning. */
export function checkValue(key: SettableKey, value: string): string {
  const v = value.trim()
  if (v.length > MAX_VALUE) throw new DaneelError('ERR_CONFIG_INVALID', `${key} is longer than ${MAX_VALUE} characters`)
  if (!PRINTABLE.test(v)) throw new DaneelError('ERR_CONFIG_INVALID', `${key} must be printable ASCII on one line`)
  return v
}

/** Hides the password (and user) of a URL with credentials; every other value is public. */
export function redactValue(key: string, value: string): string {
  if (key !== 'MQTT_URL') return value
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@')
}

/** Formats settings the way systemd's EnvironmentFile= reads them: KEY="value", with \\ " $ and ` escaped as systemd's parser expects. */
export function formatEnvFile(settings: EnvSettings): string {
  const lines = ['# Written by `daneel provision`; read by daneel.service (EnvironmentFile=). Edit with care.']
  for (const key of SETTABLE_KEYS) {
    const v = settings[key]
    if (v === undefined) continue
    lines.push(
      `${key}="${checkValue(key, v).replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('$', '\\$').replaceAll('`', '\\`')}"`,
    )
  }
  return `${lines.join('\n')}\n`
}

/** Parses the subset of EnvironmentFile syntax formatEnvFile writes (plus unquoted values and comments). */
export function parseEnvFile(text: string): EnvSettings {
  const out: EnvSettings = {}
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const eq = line.indexOf('=')
    if (eq <= 0) throw new DaneelError('ERR_CONFIG_INVALID', `environment file line without '=': ${line.slice(0, 40)}`)
    const key = line.slice(0, eq).trim()
    let value = line.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\(.)/g, '$1')
    }
    if ((SETTABLE_KEYS as readonly string[]).includes(key)) out[key as SettableKey] = value
  }
  return out
}

/** Reads the env file; a missing file is an empty configuration. */
export function readEnvFile(path: string): EnvSettings {
  let text: string
  try {
    text = readTextBounded(path, { maxBytes: MAX_CONFIG_FILE_BYTES, what: 'environment file' })
  } catch (err) {
    if (isMissingFile(err)) return {}
    throw err
  }
  return parseEnvFile(text)
}

/** Writes the env file atomically, mode 0600 (MQTT_URL may carry a password), owned by `uid` when given. */
export function writeEnvFile(path: string, settings: EnvSettings, uid?: number): void {
  writeFileAtomic(path, formatEnvFile(settings), { mode: 0o600, uid })
}
