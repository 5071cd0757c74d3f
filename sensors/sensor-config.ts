/** Validates one sensor of a device config against the registry's descriptors: common fields, bus address, chip settings. */
import { configError, isObject, readInteger, readNumber, readString } from './config-fields.js'
import type { BusKind, ChipSetting, SensorCommon, SensorConfig, SensorDescriptor } from './descriptor.js'
import { findSensor, SENSOR_DESCRIPTORS, SENSOR_TYPES } from './registry.js'

/** Fields every sensor accepts (exported for the registry's test: no chip setting may shadow them). */
export const COMMON_FIELDS_LIST = ['$comment', 'id', 'type', 'bus', 'intervalSeconds', 'warmupSeconds'] as const
/** Fields every sensor accepts. `bus` is optional in a file (the type implies it) and must then agree with it. */
const COMMON_FIELDS: ReadonlySet<string> = new Set(COMMON_FIELDS_LIST)
/** The address fields of each bus kind. */
export const BUS_FIELDS: Readonly<Record<BusKind, readonly string[]>> = { uart: ['port', 'baud'], gpio: ['pin'], iio: ['iio'] }
const BUS_LABELS: Readonly<Record<BusKind, string>> = { uart: 'UART', gpio: 'GPIO', iio: 'IIO' }
const BUS_KINDS: readonly BusKind[] = ['uart', 'gpio', 'iio']
const BUS_OF_FIELD: ReadonlyMap<string, BusKind> = new Map(BUS_KINDS.flatMap((b) => BUS_FIELDS[b].map((f) => [f, b] as const)))
const ID_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/
const IIO_RE = /^iio:device\d+$/

/** The chip settings some descriptor accepts, each with the labels of the chips that accept it (for messages). */
function settingOwners(): ReadonlyMap<string, readonly string[]> {
  const m = new Map<string, string[]>()
  for (const d of SENSOR_DESCRIPTORS) for (const k of Object.keys(d.settings)) m.set(k, [...(m.get(k) ?? []), d.label])
  return m
}
const SETTING_OWNERS = settingOwners()

/** What one config's sensors share while they are read: ids, ports and pins must be unique across them. */
export class SensorConfigContext {
  readonly defaultIntervalSeconds: number
  readonly ids = new Set<string>()
  readonly ports = new Set<string>()
  readonly pins = new Set<number>()

  constructor(defaultIntervalSeconds: number) {
    this.defaultIntervalSeconds = defaultIntervalSeconds
  }
}

/** Rejects a field no bus and no chip knows (a typo must not silently fall back to a default). */
function checkKnown(raw: Record<string, unknown>, p: string): void {
  for (const k of Object.keys(raw))
    if (!COMMON_FIELDS.has(k) && !BUS_OF_FIELD.has(k) && !SETTING_OWNERS.has(k))
      throw configError(`${p}.${k}`, 'unknown field (check the spelling; see device/config-schema.md)')
}

/** Rejects a known field that belongs to another bus or chip, naming the sensors it applies to. */
function checkApplies(raw: Record<string, unknown>, d: SensorDescriptor, p: string, type: string): void {
  for (const k of Object.keys(raw)) {
    const bus = BUS_OF_FIELD.get(k)
    if (bus !== undefined && bus !== d.bus) throw configError(`${p}.${k}`, `only applies to ${BUS_LABELS[bus]} sensors, not ${type}`)
    const owners = SETTING_OWNERS.get(k)
    if (owners !== undefined && !(k in d.settings))
      throw configError(`${p}.${k}`, `only applies to ${owners.join(' and ')} sensors, not ${type}`)
  }
}

/** Validates `sensors[i]`; every error is ERR_CONFIG_INVALID naming the field (`config field sensors[1].port: ...`). */
export function parseSensorConfig(raw: unknown, i: number, ctx: SensorConfigContext): SensorConfig {
  const p = `sensors[${i}]`
  if (!isObject(raw)) throw configError(p, 'must be an object')
  checkKnown(raw, p)
  const id = readString(raw.id, `${p}.id`)
  if (!ID_RE.test(id)) throw configError(`${p}.id`, `must be 1-32 lower-case letters, digits, '-' or '_', not '${id}'`)
  if (ctx.ids.has(id)) throw configError(`${p}.id`, `'${id}' is used by another sensor`)
  ctx.ids.add(id)
  const type = readString(raw.type, `${p}.type`)
  const d = findSensor(type)
  if (d === undefined) throw configError(`${p}.type`, `must be one of ${SENSOR_TYPES.join(', ')}, not '${type}'`)
  checkApplies(raw, d, p, type)
  if (raw.bus !== undefined && raw.bus !== d.bus)
    throw configError(`${p}.bus`, `${type} is a ${d.bus} sensor, not ${JSON.stringify(raw.bus)}`)
  const common: SensorCommon = {
    id,
    type,
    intervalSeconds: readNumber(raw.intervalSeconds, `${p}.intervalSeconds`, 0.01, 86400, ctx.defaultIntervalSeconds),
    warmupSeconds: readNumber(raw.warmupSeconds, `${p}.warmupSeconds`, 0, 3600, d.warmupSeconds),
  }
  const settings: Record<string, ChipSetting> = {}
  const withSettings = (): void => {
    for (const [k, read] of Object.entries(d.settings)) settings[k] = read(raw[k], `${p}.${k}`, common)
  }
  switch (d.bus) {
    case 'uart': {
      const port = readString(raw.port, `${p}.port`)
      if (ctx.ports.has(port)) throw configError(`${p}.port`, `'${port}' is used by another sensor`)
      ctx.ports.add(port)
      const baud = readInteger(raw.baud, `${p}.baud`, 1200, 115200, d.baud)
      if (baud !== d.baud) throw configError(`${p}.baud`, `${type} speaks ${d.baud} 8N1 only, not ${baud}`)
      withSettings()
      return { ...settings, ...common, bus: 'uart', port, baud }
    }
    case 'gpio': {
      const pin = readInteger(raw.pin, `${p}.pin`, 0, 53)
      if (ctx.pins.has(pin)) throw configError(`${p}.pin`, `BCM ${pin} is used by another sensor`)
      ctx.pins.add(pin)
      withSettings()
      return { ...settings, ...common, bus: 'gpio', pin }
    }
    case 'iio': {
      const iio = readString(raw.iio, `${p}.iio`)
      if (!IIO_RE.test(iio) && !iio.startsWith('/'))
        throw configError(`${p}.iio`, `must be 'iio:deviceN' or an absolute path, not '${iio}'`)
      withSettings()
      return { ...settings, ...common, bus: 'iio', iio }
    }
  }
}
