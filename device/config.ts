/** The device config file (`daneel run --config FILE`): a JSON schema, validated field by field (device/config-schema.md). */
import { readFileSync } from 'node:fs'
import { DaneelError } from '../src/errors.js'

/** UART sensors: a tty at 9600 8N1 (hardware.md §2.1-2.3). */
export type UartSensorType = 'pms5003' | 'pms7003' | 'sds011' | 'mhz19b'
export type SensorType = UartSensorType | 'ppd42ns' | 'bme280' | 'bme680'

export interface SensorConfig {
  /** Short unique id, used in readings and status messages (e.g. "pm", "co2"). */
  readonly id: string
  readonly type: SensorType
  /** UART sensors: the tty path (e.g. /dev/ttyAMA0). */
  readonly port?: string
  /** UART sensors: the line speed (9600 for all supported chips). */
  readonly baud?: number
  /** GPIO sensors: the BCM pin number (0-53), mapped through sysfs gpiochip bases at run time. */
  readonly pin?: number
  /** IIO sensors: the IIO device directory name (iio:device0) or an absolute path under /sys/bus/iio. */
  readonly iio?: string
  /** Seconds between readings of this sensor (defaults to the top-level intervalSeconds). */
  readonly intervalSeconds: number
  /** Seconds after wake before readings count (PMS/SDS 30 s, MH-Z19B 180 s; 0 for the others). */
  readonly warmupSeconds: number
  /** PMS/SDS: active (streams) or passive (queried); MH-Z19B is always queried. */
  readonly mode?: 'active' | 'passive'
  /** MH-Z19B automatic baseline calibration; off unless configured (hardware.md §2.3). */
  readonly abc?: boolean
  /** PPD42NS: the low-pulse-occupancy sampling window in seconds (the Seeed demo uses 30). */
  readonly windowSeconds?: number
}

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

const UART_TYPES: ReadonlySet<string> = new Set(['pms5003', 'pms7003', 'sds011', 'mhz19b'])
const SENSOR_TYPES: ReadonlySet<string> = new Set([...UART_TYPES, 'ppd42ns', 'bme280', 'bme680'])
const DEFAULT_WARMUP: Record<SensorType, number> = { pms5003: 30, pms7003: 30, sds011: 30, mhz19b: 180, ppd42ns: 60, bme280: 0, bme680: 0 }
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
const SENSOR_FIELDS = new Set([
  '$comment',
  'id',
  'type',
  'port',
  'baud',
  'pin',
  'iio',
  'intervalSeconds',
  'warmupSeconds',
  'mode',
  'abc',
  'windowSeconds',
])
const FAULT_FIELDS = new Set(['degradedAfter', 'failedAfter', 'backoffMinSeconds', 'backoffMaxSeconds'])
/** RFC 1035 §2.3.4 limits; underscores allowed because identity names carry `_device`. */
const NAME_RE = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?$/
const ID_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/

const bad = (field: string, why: string): DaneelError => new DaneelError('ERR_CONFIG_INVALID', `config field ${field}: ${why}`)

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function checkFields(obj: Record<string, unknown>, allowed: ReadonlySet<string>, prefix: string): void {
  for (const k of Object.keys(obj))
    if (!allowed.has(k)) throw bad(`${prefix}${k}`, 'unknown field (check the spelling; see device/config-schema.md)')
}

function num(obj: Record<string, unknown>, key: string, field: string, min: number, max: number, dflt?: number): number {
  const v = obj[key]
  if (v === undefined) {
    if (dflt === undefined) throw bad(field, 'is required')
    return dflt
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(field, `must be a number, not ${JSON.stringify(v)}`)
  if (v < min || v > max) throw bad(field, `must be between ${min} and ${max}, not ${v}`)
  return v
}

function int(obj: Record<string, unknown>, key: string, field: string, min: number, max: number, dflt?: number): number {
  const v = num(obj, key, field, min, max, dflt)
  if (!Number.isInteger(v)) throw bad(field, `must be a whole number, not ${v}`)
  return v
}

function str(obj: Record<string, unknown>, key: string, field: string): string {
  const v = obj[key]
  if (typeof v !== 'string' || v.trim() === '') throw bad(field, v === undefined ? 'is required' : 'must be a non-empty string')
  return v
}

function parseSensor(
  raw: unknown,
  i: number,
  defaultInterval: number,
  seen: Set<string>,
  ports: Set<string>,
  pins: Set<number>,
): SensorConfig {
  const p = `sensors[${i}]`
  if (!isObject(raw)) throw bad(p, 'must be an object')
  checkFields(raw, SENSOR_FIELDS, `${p}.`)
  const id = str(raw, 'id', `${p}.id`)
  if (!ID_RE.test(id)) throw bad(`${p}.id`, `must be 1-32 lower-case letters, digits, '-' or '_', not '${id}'`)
  if (seen.has(id)) throw bad(`${p}.id`, `'${id}' is used by another sensor`)
  seen.add(id)
  const type = str(raw, 'type', `${p}.type`)
  if (!SENSOR_TYPES.has(type)) throw bad(`${p}.type`, `must be one of ${[...SENSOR_TYPES].join(', ')}, not '${type}'`)
  const t = type as SensorType
  const out: { -readonly [K in keyof SensorConfig]: SensorConfig[K] } = {
    id,
    type: t,
    intervalSeconds: num(raw, 'intervalSeconds', `${p}.intervalSeconds`, 0.01, 86400, defaultInterval),
    warmupSeconds: num(raw, 'warmupSeconds', `${p}.warmupSeconds`, 0, 3600, DEFAULT_WARMUP[t]),
  }
  const only = (key: string, cond: boolean, what: string): void => {
    if (raw[key] !== undefined && !cond) throw bad(`${p}.${key}`, `only applies to ${what} sensors, not ${t}`)
  }
  only('port', UART_TYPES.has(t), 'UART')
  only('baud', UART_TYPES.has(t), 'UART')
  only('mode', t !== 'mhz19b' && UART_TYPES.has(t), 'PMS and SDS011')
  only('abc', t === 'mhz19b', 'MH-Z19B')
  only('pin', t === 'ppd42ns', 'PPD42NS (GPIO)')
  only('windowSeconds', t === 'ppd42ns', 'PPD42NS')
  only('iio', t === 'bme280' || t === 'bme680', 'BME280/BME680 (IIO)')
  if (UART_TYPES.has(t)) {
    out.port = str(raw, 'port', `${p}.port`)
    if (ports.has(out.port)) throw bad(`${p}.port`, `'${out.port}' is used by another sensor`)
    ports.add(out.port)
    out.baud = int(raw, 'baud', `${p}.baud`, 1200, 115200, 9600)
    if (out.baud !== 9600) throw bad(`${p}.baud`, `${t} speaks 9600 8N1 only, not ${out.baud}`)
    if (t === 'mhz19b') {
      const abc = raw.abc ?? false
      if (typeof abc !== 'boolean') throw bad(`${p}.abc`, `must be true or false, not ${JSON.stringify(abc)}`)
      out.abc = abc
    } else {
      const mode = raw.mode ?? 'active'
      if (mode !== 'active' && mode !== 'passive') throw bad(`${p}.mode`, `must be 'active' or 'passive', not ${JSON.stringify(mode)}`)
      out.mode = mode
    }
  } else if (t === 'ppd42ns') {
    out.pin = int(raw, 'pin', `${p}.pin`, 0, 53)
    if (pins.has(out.pin)) throw bad(`${p}.pin`, `BCM ${out.pin} is used by another sensor`)
    pins.add(out.pin)
    out.windowSeconds = num(raw, 'windowSeconds', `${p}.windowSeconds`, 1, 600, Math.max(1, Math.min(30, out.intervalSeconds)))
    if (out.windowSeconds > out.intervalSeconds) throw bad(`${p}.windowSeconds`, `must not exceed intervalSeconds (${out.intervalSeconds})`)
  } else {
    out.iio = str(raw, 'iio', `${p}.iio`)
    if (!/^iio:device\d+$/.test(out.iio) && !out.iio.startsWith('/'))
      throw bad(`${p}.iio`, `must be 'iio:deviceN' or an absolute path, not '${out.iio}'`)
  }
  return out
}

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
  const seen = new Set<string>()
  const ports = new Set<string>()
  const pins = new Set<number>()
  const sensors = raw.sensors.map((s, i) => parseSensor(s, i, intervalSeconds, seen, ports, pins))
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
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new DaneelError('ERR_IO', `cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    })
  }
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
