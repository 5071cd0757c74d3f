/** The environment contract (docs/contract.md "Environment") and its matching CLI flags, resolved once (flags win over env). */

import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import type { ParseArgsConfig } from 'node:util'
import { DaneelError } from '../src/errors.js'
import { type LogFormat, type LogLevel, parseLogFormat, parseLogLevel, setLogDefaults } from '../src/log.js'

/** MAX_MESSAGE_SIZE when unset (bytes): a sealed reading is a few hundred bytes; a certificate chain in one fits too. */
export const DEFAULT_MAX_MESSAGE_SIZE = 16384

/** Flags every command that needs settings accepts; each mirrors an environment variable. */
export const SETTINGS_OPTIONS = {
  'dane-id': { type: 'string' }, // DANE_ID (alias IDENTITY_NAME)
  'crypto-path': { type: 'string' }, // CRYPTO_PATH
  'app-uid': { type: 'string' }, // APP_UID
  'no-dnssec': { type: 'boolean' }, // NO_DNSSEC
  'mqtt-host': { type: 'string' }, // MQTT_HOST
  'mqtt-port': { type: 'string' }, // MQTT_PORT
  'mqtt-url': { type: 'string' }, // MQTT_URL
  'trusted-domains': { type: 'string' }, // TRUSTED_DOMAINS
  'max-message-size': { type: 'string' }, // MAX_MESSAGE_SIZE
  state: { type: 'string' }, // DANEEL_STATE
  dns: { type: 'string' }, // DNS_SERVER
  'trust-anchors': { type: 'string' }, // DNSSEC_TRUST_ANCHORS
  dnssec: { type: 'string' }, // DNSSEC=validate|resolver
  crypto: { type: 'string' }, // DANEEL_CRYPTO=node|noble
  'legacy-domains': { type: 'string' }, // LEGACY_DOMAINS
  'group-name': { type: 'string' }, // GROUP_NAME
  'log-level': { type: 'string' }, // LOG_LEVEL=debug|info|warn|error|silent
  'log-format': { type: 'string' }, // LOG_FORMAT=text|json
} as const satisfies NonNullable<ParseArgsConfig['options']>

export const SETTINGS_HELP = `Settings (flag, or environment variable; flags win):
  --dane-id NAME          DANE_ID (alias IDENTITY_NAME): this device's identity name
  --crypto-path DIR       CRYPTO_PATH: where NAME.key.pem, .crt.pem, .csr.pem live (default /var/lib/daneel/crypto,
                          or the original identity-manager's /etc/dane_id when only that exists)
  --app-uid UID           APP_UID: owner of the private key file
  --no-dnssec             NO_DNSSEC: use PKIX-CD instead of DNSSEC (on when set to any non-empty value)
  --mqtt-url URL          MQTT_URL (or --mqtt-host/MQTT_HOST and --mqtt-port/MQTT_PORT)
  --trusted-domains LIST  TRUSTED_DOMAINS: comma-separated sender domains
  --max-message-size N    MAX_MESSAGE_SIZE: bytes (default 16384)
  --state DIR             DANEEL_STATE: replay guard, outbox (default STATE_DIRECTORY or CRYPTO_PATH/state)
  --dns HOST[:PORT]       DNS_SERVER: resolver(s), comma-separated (default /etc/resolv.conf)
  --trust-anchors FILE    DNSSEC_TRUST_ANCHORS: DS/DNSKEY records (default: the root KSKs)
  --dnssec MODE           DNSSEC: validate (default) or resolver (trust the AD bit of a loopback resolver)
  --crypto PROVIDER       DANEEL_CRYPTO: node (default) or noble
  --legacy-domains LIST   LEGACY_DOMAINS: accept messages without claims (the original system's, the DEF CON 29
                          workshop's) from senders under these comma-separated domains, still DANE-verified
  --group-name NAME       GROUP_NAME: topic prefix of the original receivers: NAME/<recipient> (default none)
  --log-level LEVEL       LOG_LEVEL: debug, info (default), warn, error or silent (stderr)
  --log-format FORMAT     LOG_FORMAT: text (default) or json, one object a line: {level,name,time,msg,...fields}
  DANEEL_DEBUG=1          print an error's cause under its one line`

export interface Settings {
  daneId: string | undefined
  cryptoPath: string
  appUid: number | undefined
  noDnssec: boolean
  mqttUrl: string
  trustedDomains: string[]
  maxMessageSize: number
  stateDir: string
  dnsServers: string[] | undefined
  trustAnchorsFile: string | undefined
  dnssecMode: 'validate' | 'resolver'
  cryptoProvider: 'node' | 'noble'
  /** LEGACY_DOMAINS: senders whose unbound messages are accepted (empty: none). */
  legacyDomains: string[]
  /** GROUP_NAME: the original receivers' topic prefix (`GROUP_NAME/<name>`), or undefined. */
  groupName: string | undefined
  logLevel: LogLevel
  logFormat: LogFormat
}

/** The default CRYPTO_PATH, and the original identity-manager block's (its Dockerfile sets CRYPTO_PATH=/etc/dane_id/). */
export const DEFAULT_CRYPTO_PATH = '/var/lib/daneel/crypto'
export const ORIGINAL_CRYPTO_PATH = '/etc/dane_id'

type SettingsValues = { [K in keyof typeof SETTINGS_OPTIONS]?: (typeof SETTINGS_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string }

/**
 * NO_DNSSEC is a presence flag, as in the original identity-manager ("If this is set, it signals to the app that
 * your zone is not protected by DNSSEC"): any non-empty value turns it on, even "false"; unset or empty is off.
 */
function presence(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== ''
}

function domains(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((d) => d.trim().toLowerCase().replace(/\.$/, ''))
    .filter((d) => d !== '')
}

function int(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new DaneelError('ERR_CONFIG_INVALID', `${name} must be a whole number, not '${value}'`)
  const n = Number(value)
  if (n < min || n > max) throw new DaneelError('ERR_CONFIG_INVALID', `${name} must be between ${min} and ${max}, not ${n}`)
  return n
}

/**
 * A broker host: an IP address, or a host name of letters, digits, hyphens and dots (RFC 1123 §2.1; underscores
 * too, since container service names carry them). Anything else would change the URL it is pasted into:
 * `MQTT_HOST='a b@c'` once became the URL's user part and a connection to host `c`.
 */
const HOST_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i
function checkHost(host: string): string {
  if (isIP(host) !== 0) return host
  const bracketed = /^\[(.+)\]$/.exec(host)?.[1] // [::1], as in a URL
  if (bracketed !== undefined && isIP(bracketed) === 6) return bracketed
  const labels = host.replace(/\.$/, '').split('.')
  if (host.length > 253 || !labels.every((l) => HOST_LABEL.test(l)))
    throw new DaneelError(
      'ERR_CONFIG_INVALID',
      `MQTT_HOST must be a host name or an IP address, not '${host}' (use MQTT_URL for credentials)`,
    )
  return host
}

/**
 * Resolves settings from parsed flags and an environment (pass process.env). Throws ERR_CONFIG_INVALID.
 * `exists` (default fs.existsSync) picks the CRYPTO_PATH default: ours, else the original /etc/dane_id when only it exists.
 */
export function resolveSettings(values: SettingsValues, env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): Settings {
  const pick = (flag: string | boolean | undefined, ...names: string[]): string | undefined => {
    if (flag !== undefined) return String(flag)
    for (const n of names) if (env[n] !== undefined && env[n] !== '') return env[n]
    return undefined
  }
  const cryptoPath =
    pick(values['crypto-path'], 'CRYPTO_PATH') ??
    (!exists(DEFAULT_CRYPTO_PATH) && exists(ORIGINAL_CRYPTO_PATH) ? ORIGINAL_CRYPTO_PATH : DEFAULT_CRYPTO_PATH)
  const appUidRaw = pick(values['app-uid'], 'APP_UID')
  const noDnssec = values['no-dnssec'] === true || presence(env.NO_DNSSEC)

  let mqttUrl = pick(values['mqtt-url'], 'MQTT_URL')
  if (mqttUrl === undefined) {
    const host = checkHost((pick(values['mqtt-host'], 'MQTT_HOST') ?? '127.0.0.1').trim())
    const port = int('MQTT_PORT', pick(values['mqtt-port'], 'MQTT_PORT') ?? '1883', 1, 65535)
    mqttUrl = `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`
  }
  // several comma-separated URLs: the brokers of a cluster, tried in turn (messaging/mqtt.ts)
  for (const u of mqttUrl.split(',').map((x) => x.trim())) {
    if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(u))
      throw new DaneelError('ERR_CONFIG_INVALID', `MQTT_URL must start with mqtt://, mqtts://, ws:// or wss://, not '${u}'`)
    if (!URL.canParse(u) || new URL(u).hostname === '')
      throw new DaneelError('ERR_CONFIG_INVALID', `MQTT_URL is not a URL with a host: '${u.replace(/\/\/[^@/]*@/, '//***@')}'`)
  }

  const trustedDomains = domains(pick(values['trusted-domains'], 'TRUSTED_DOMAINS'))
  const groupName = pick(values['group-name'], 'GROUP_NAME')?.trim()
  if (groupName !== undefined && !/^[^/+#$\s]+$/.test(groupName))
    throw new DaneelError('ERR_CONFIG_INVALID', `GROUP_NAME must be one topic level (no / + # $ or spaces), not '${groupName}'`)
  const maxRaw = pick(values['max-message-size'], 'MAX_MESSAGE_SIZE')
  const maxMessageSize = maxRaw === undefined ? DEFAULT_MAX_MESSAGE_SIZE : int('MAX_MESSAGE_SIZE', maxRaw, 256, 16 * 1024 * 1024)
  const stateDir = pick(values.state, 'DANEEL_STATE', 'STATE_DIRECTORY')?.split(':')[0] ?? join(cryptoPath, 'state')
  const dnsRaw = pick(values.dns, 'DNS_SERVER')
  const dnssecRaw = (pick(values.dnssec, 'DNSSEC') ?? 'validate').toLowerCase()
  if (dnssecRaw !== 'validate' && dnssecRaw !== 'resolver')
    throw new DaneelError('ERR_CONFIG_INVALID', `DNSSEC must be 'validate' or 'resolver', not '${dnssecRaw}'`)
  const cryptoRaw = (pick(values.crypto, 'DANEEL_CRYPTO') ?? 'node').toLowerCase()
  if (cryptoRaw !== 'node' && cryptoRaw !== 'noble')
    throw new DaneelError('ERR_CONFIG_INVALID', `DANEEL_CRYPTO must be 'node' or 'noble', not '${cryptoRaw}'`)

  const logLevel =
    parseLogLevel(pick(values['log-level'], 'LOG_LEVEL'), values['log-level'] === undefined ? 'LOG_LEVEL' : '--log-level') ?? 'info'
  const logFormat =
    parseLogFormat(pick(values['log-format'], 'LOG_FORMAT'), values['log-format'] === undefined ? 'LOG_FORMAT' : '--log-format') ?? 'text'
  // The command's own environment: its loggers follow the flags too (a candidate env, as provisioning checks, does not).
  if (env === process.env) setLogDefaults({ level: logLevel, format: logFormat })

  return {
    daneId: pick(values['dane-id'], 'DANE_ID', 'IDENTITY_NAME')?.trim().toLowerCase().replace(/\.$/, ''),
    cryptoPath,
    appUid: appUidRaw === undefined ? undefined : int('APP_UID', appUidRaw, 0, 2 ** 31 - 1),
    noDnssec,
    mqttUrl,
    trustedDomains,
    maxMessageSize,
    stateDir,
    dnsServers:
      dnsRaw === undefined
        ? undefined
        : dnsRaw
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
    trustAnchorsFile: pick(values['trust-anchors'], 'DNSSEC_TRUST_ANCHORS'),
    dnssecMode: dnssecRaw,
    cryptoProvider: cryptoRaw,
    legacyDomains: domains(pick(values['legacy-domains'], 'LEGACY_DOMAINS')),
    groupName: groupName === '' ? undefined : groupName,
    logLevel,
    logFormat,
  }
}

/** The MQTT topic of a recipient: its name, or `GROUP_NAME/<name>` for the original system's receivers. */
export function topicFor(settings: Pick<Settings, 'groupName'>, name: string): string {
  return settings.groupName === undefined ? name : `${settings.groupName}/${name}`
}

/** Requires the identity name, with a clear usage error when missing. */
export function requireDaneId(settings: Settings): string {
  if (settings.daneId === undefined || settings.daneId === '') {
    throw new DaneelError('ERR_USAGE', 'no identity name: set DANE_ID (or IDENTITY_NAME) or pass --dane-id NAME')
  }
  return settings.daneId
}
