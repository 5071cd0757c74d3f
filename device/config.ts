/** The device config file (`daneel run --config FILE`): a JSON schema, validated field by field (device/config-schema.md). */
import { configError as bad, isObject, readInteger, readNumber, readString } from '../sensors/config-fields.js'
import type { SensorConfig } from '../sensors/descriptor.js'
import { parseSensorConfig, SensorConfigContext } from '../sensors/sensor-config.js'
import { DaneelError } from '../src/errors.js'
import { MAX_CONFIG_FILE_BYTES, readTextBounded } from '../src/read-file.js'

/** One sensor: a union by bus kind, its fields declared by the chip's descriptor in sensors/<chip>/ (sensors/registry.ts). */
export type { SensorConfig } from '../sensors/descriptor.js'

export interface FaultPolicy {
  /** Consecutive faults before a sensor is reported degraded. */
  readonly degradedAfter: number
  /** Consecutive faults before it is reported failed and retried only with backoff. */
  readonly failedAfter: number
  readonly backoffMinSeconds: number
  readonly backoffMaxSeconds: number
}

export interface DeviceConfig {
  readonly version: 1
  /** Identity names the readings are sealed to (each gets its own copy on its own topic). */
  readonly recipients: readonly string[]
  readonly profile: 'compact' | 'valimail'
  readonly intervalSeconds: number
  /** Seconds between status messages (sensor health, outbox) in the stream; 0 disables the periodic ones. */
  readonly statusIntervalSeconds: number
  readonly sensors: readonly SensorConfig[]
  readonly faults: FaultPolicy
  /** On SIGTERM, how long to wait for the outbox to drain before exiting anyway. */
  readonly drainSeconds: number
  /** The sequence number is persisted once per block of this many readings (no fsync per reading). */
  readonly sequenceBlock: number
  /** Outbox bound in bytes (drop-oldest beyond it). */
  readonly outboxMaxBytes: number
  /** Root of the sysfs GPIO tree (tests and containers move it). */
  readonly gpioSysfsRoot: string
}

const TOP_FIELDS = new Set([
  '$comment',
  'version',
  'recipients',
  'profile',
  'intervalSeconds',
  'statusIntervalSeconds',
  'sensors',
  'faults',
  'drainSeconds',
  'sequenceBlock',
  'outboxMaxBytes',
  'gpioSysfsRoot',
])
const FAULT_FIELDS = new Set(['degradedAfter', 'failedAfter', 'backoffMinSeconds', 'backoffMaxSeconds'])
/** RFC 1035 §2.3.4 limits; underscores allowed because identity names carry `_device`. */
const NAME_RE = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?$/

function checkFields(obj: Record<string, unknown>, allowed: ReadonlySet<string>, prefix: string): void {
  for (const k of Object.keys(obj))
    if (!allowed.has(k)) throw bad(`${prefix}${k}`, 'unknown field (check the spelling; see device/config-schema.md)')
}

const num = (obj: Record<string, unknown>, key: string, field: string, min: number, max: number, dflt?: number): number =>
  readNumber(obj[key], field, min, max, dflt)
const int = (obj: Record<string, unknown>, key: string, field: string, min: number, max: number, dflt?: number): number =>
  readInteger(obj[key], field, min, max, dflt)
const str = (obj: Record<string, unknown>, key: string, field: string): string => readString(obj[key], field)

/** Validates a parsed JSON value; every error is ERR_CONFIG_INVALID and names the offending field. */
export function parseConfig(raw: unknown): DeviceConfig {
  if (!isObject(raw)) throw bad('(top level)', 'must be a JSON object')
  checkFields(raw, TOP_FIELDS, '')
  if (raw.version !== 1) throw bad('version', `must be 1, not ${JSON.stringify(raw.version)}`)
  const rec = raw.recipients
  if (!Array.isArray(rec) || rec.length === 0) throw bad('recipients', 'must be a non-empty array of identity names')
  if (rec.length > 8) throw bad('recipients', `at most 8 names, not ${rec.length}`)
  const recipients = rec.map((r, i) => {
    if (typeof r !== 'string') throw bad(`recipients[${i}]`, 'must be a string')
    const n = r.trim().toLowerCase().replace(/\.$/, '')
    if (!NAME_RE.test(n)) throw bad(`recipients[${i}]`, `'${r}' is not a valid DNS name`)
    return n
  })
  if (new Set(recipients).size !== recipients.length) throw bad('recipients', 'names must be distinct')
  const profile = raw.profile ?? 'compact'
  if (profile !== 'compact' && profile !== 'valimail')
    throw bad('profile', `must be 'compact' or 'valimail', not ${JSON.stringify(profile)}`)
  const intervalSeconds = num(raw, 'intervalSeconds', 'intervalSeconds', 0.01, 86400, 10)
  if (!Array.isArray(raw.sensors) || raw.sensors.length === 0) throw bad('sensors', 'must be a non-empty array')
  if (raw.sensors.length > 16) throw bad('sensors', `at most 16 sensors, not ${raw.sensors.length}`)
  const ctx = new SensorConfigContext(intervalSeconds)
  const sensors = raw.sensors.map((s, i) => parseSensorConfig(s, i, ctx))
  const f = raw.faults ?? {}
  if (!isObject(f)) throw bad('faults', 'must be an object')
  checkFields(f, FAULT_FIELDS, 'faults.')
  const degradedAfter = int(f, 'degradedAfter', 'faults.degradedAfter', 1, 1000, 3)
  const failedAfter = int(f, 'failedAfter', 'faults.failedAfter', 1, 10000, 10)
  if (failedAfter < degradedAfter) throw bad('faults.failedAfter', `must be at least degradedAfter (${degradedAfter})`)
  const backoffMinSeconds = num(f, 'backoffMinSeconds', 'faults.backoffMinSeconds', 0.01, 3600, 5)
  const backoffMaxSeconds = num(f, 'backoffMaxSeconds', 'faults.backoffMaxSeconds', 0.01, 86400, 300)
  if (backoffMaxSeconds < backoffMinSeconds)
    throw bad('faults.backoffMaxSeconds', `must be at least backoffMinSeconds (${backoffMinSeconds})`)
  const gpioSysfsRoot = raw.gpioSysfsRoot === undefined ? '/sys/class/gpio' : str(raw, 'gpioSysfsRoot', 'gpioSysfsRoot')
  return {
    version: 1,
    recipients,
    profile,
    intervalSeconds,
    statusIntervalSeconds: num(raw, 'statusIntervalSeconds', 'statusIntervalSeconds', 0, 86400, 60),
    sensors,
    faults: { degradedAfter, failedAfter, backoffMinSeconds, backoffMaxSeconds },
    drainSeconds: num(raw, 'drainSeconds', 'drainSeconds', 0, 300, 10),
    sequenceBlock: int(raw, 'sequenceBlock', 'sequenceBlock', 1, 1_000_000, 1000),
    outboxMaxBytes: int(raw, 'outboxMaxBytes', 'outboxMaxBytes', 64 * 1024, 2 ** 31 - 1, 16 * 1024 * 1024),
    gpioSysfsRoot,
  }
}

/** Reads and validates a config file. Unreadable: ERR_IO; not JSON or not valid: ERR_CONFIG_INVALID. */
export function loadConfig(path: string): DeviceConfig {
  const text = readTextBounded(path, { maxBytes: MAX_CONFIG_FILE_BYTES, what: 'config' })
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new DaneelError('ERR_CONFIG_INVALID', `config ${path} is not valid JSON: ${(err as Error).message}`, { cause: err })
  }
  try {
    return parseConfig(raw)
  } catch (err) {
    if (err instanceof DaneelError) throw new DaneelError(err.code, `${path}: ${err.message}`, { cause: err.cause })
    throw err
  }
}
