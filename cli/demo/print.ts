/** One human-friendly line per verified message for the demo's terminal output. */
import type { ListenLine } from './receiver.js'

/** Labels and units of the reading fields the drivers publish (sensors/readings.ts), in display order. */
const FIELDS: ReadonlyArray<readonly [string, string, string]> = [
  ['pm1', 'PM1', ''],
  ['pm25', 'PM2.5', ''],
  ['pm10', 'PM10', ' µg/m³'],
  ['co2', 'CO2', ' ppm'],
  ['temperature', 'T', ' °C'],
  ['humidity', 'RH', ' %'],
  ['pressure', 'p', ' hPa'],
  ['lowRatio', 'LPO', ' %'],
  ['particles', 'particles', '/0.01 ft³'],
]

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length))

/** `12:00:01  node1  pm   pms5003  PM1 6  PM2.5 9  PM10 13 µg/m³  #12  dnssec` */
export function formatLine(msg: ListenLine): string {
  const time = msg.receivedAt.slice(11, 19)
  const who = msg.from.split('.')[0] ?? msg.from
  const seq = typeof msg.claims?.seq === 'number' ? `#${msg.claims.seq}` : ''
  const c = (msg.reading ?? {}) as Record<string, unknown>
  const status = c.status as Record<string, unknown> | undefined
  if (status !== undefined) {
    const fault = status.fault === null || status.fault === undefined ? '' : ` (${String(status.fault)})`
    return `${time}  ${pad(who, 6)} ${pad(String(status.sensor ?? 'device'), 4)} status: ${String(status.health ?? 'report')}${fault}  ${seq}  ${msg.auth}`
  }
  const values = (c.values ?? {}) as Record<string, number>
  const parts: string[] = []
  for (const [key, label, unit] of FIELDS) {
    const v = values[key]
    if (typeof v === 'number') parts.push(`${label} ${Number.isInteger(v) ? v : v.toFixed(1)}${unit}`)
  }
  return `${time}  ${pad(who, 6)} ${pad(String(c.sensor ?? '?'), 4)} ${pad(String(c.model ?? ''), 8)} ${pad(parts.join('  '), 36)} ${pad(seq, 5)} ${msg.auth}`
}
