/**
 * Home Assistant MQTT discovery (device-based schema, HA 2024.11+): one retained `<prefix>/device/<id>/config`
 * message per node lists every sensor value as a component, each reading its own state topic.
 */
import { createHash } from 'node:crypto'
import type { ReadingRow } from './store/types.js'

/** What HA needs to know per value key: its device class and unit (HA sensor device classes). */
const KEYS: Readonly<Record<string, { name: string; deviceClass?: string; unit?: string }>> = {
  pm1: { name: 'PM1', deviceClass: 'pm1', unit: 'µg/m³' },
  pm25: { name: 'PM2.5', deviceClass: 'pm25', unit: 'µg/m³' },
  pm10: { name: 'PM10', deviceClass: 'pm10', unit: 'µg/m³' },
  pm1Cf1: { name: 'PM1 (CF=1)', unit: 'µg/m³' },
  pm25Cf1: { name: 'PM2.5 (CF=1)', unit: 'µg/m³' },
  pm10Cf1: { name: 'PM10 (CF=1)', unit: 'µg/m³' },
  co2: { name: 'CO₂', deviceClass: 'carbon_dioxide', unit: 'ppm' },
  temperature: { name: 'Temperature', deviceClass: 'temperature', unit: '°C' },
  humidity: { name: 'Humidity', deviceClass: 'humidity', unit: '%' },
  pressure: { name: 'Pressure', deviceClass: 'atmospheric_pressure', unit: 'hPa' },
  gasResistance: { name: 'Gas resistance', unit: 'Ω' },
}

export interface HaSensor {
  /** The node's sensor id (`ReadingRow.sensor`). */
  sensor: string
  model: string | null
  /** The value keys it reports. */
  keys: readonly string[]
}

export interface HaOptions {
  /** HA's discovery prefix (its `discovery_prefix`, default "homeassistant"). */
  prefix?: string
  /** Where the gateway republishes plaintext state for HA (default "daneel"). */
  stateBase?: string
  /** This gateway's version, for the origin mapping. */
  version: string
}

export interface MqttMessage {
  topic: string
  payload: string
  retain: boolean
  qos: 0 | 1
}

/**
 * HA's object ids are [a-zA-Z0-9_-]; a DNS name is mapped to that set and suffixed with a hash of the exact name,
 * so two names that map alike (a.b, a_b) never share a device.
 */
export function haObjectId(node: string): string {
  const h = createHash('sha256').update(node).digest('hex').slice(0, 8)
  return `${node.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64)}_${h}`
}

export function stateTopic(node: string, sensor: string, opts: Pick<HaOptions, 'stateBase'> = {}): string {
  return `${opts.stateBase ?? 'daneel'}/${haObjectId(node)}/${sensor.replace(/[^a-zA-Z0-9_-]/g, '_')}/state`
}

/** The retained device discovery message for one node. */
export function discoveryMessage(node: string, sensors: readonly HaSensor[], opts: HaOptions): MqttMessage {
  const id = haObjectId(node)
  const cmps: Record<string, Record<string, unknown>> = {}
  for (const s of sensors) {
    for (const key of s.keys) {
      const meta = KEYS[key] ?? { name: key }
      const uid = `daneel_${id}_${s.sensor}_${key}`.replace(/[^a-zA-Z0-9_-]/g, '_')
      cmps[uid] = {
        p: 'sensor',
        unique_id: uid,
        name: sensors.length > 1 ? `${meta.name} (${s.model ?? s.sensor})` : meta.name,
        state_topic: stateTopic(node, s.sensor, opts),
        // HA templates: the key is a JavaScript identifier, so the dotted form is valid Jinja.
        value_template: `{{ value_json.${key} }}`,
        state_class: 'measurement',
        ...(meta.deviceClass === undefined ? {} : { device_class: meta.deviceClass }),
        ...(meta.unit === undefined ? {} : { unit_of_measurement: meta.unit }),
      }
    }
  }
  const payload = {
    dev: { ids: [`daneel_${id}`], name: node, mf: 'daneel', mdl: sensors.map((s) => s.model ?? s.sensor).join(', ') },
    o: { name: 'daneel', sw: opts.version },
    cmps,
    qos: 1,
  }
  return { topic: `${opts.prefix ?? 'homeassistant'}/device/${id}/config`, payload: JSON.stringify(payload), retain: true, qos: 1 }
}

/** An empty retained payload on the config topic removes the device from HA. */
export function removalMessage(node: string, opts: Pick<HaOptions, 'prefix'> = {}): MqttMessage {
  return { topic: `${opts.prefix ?? 'homeassistant'}/device/${haObjectId(node)}/config`, payload: '', retain: true, qos: 1 }
}

/** The state message for one verified reading: its values as JSON on the sensor's state topic (not retained). */
export function stateMessage(r: ReadingRow, opts: Pick<HaOptions, 'stateBase'> = {}): MqttMessage | null {
  if (r.sensor === null) return null
  return { topic: stateTopic(r.node, r.sensor, opts), payload: JSON.stringify(r.values), retain: false, qos: 0 }
}

/** The sensors of a node as the store summarises them (`NodeSummary.latest`), for discoveryMessage. */
export function sensorsFromLatest(latest: Record<string, { model: string | null; values: Record<string, number> }>): HaSensor[] {
  return Object.entries(latest).map(([sensor, l]) => ({ sensor, model: l.model, keys: Object.keys(l.values) }))
}
