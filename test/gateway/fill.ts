/** Test data for the gateway's HTTP tests: nodes with regular readings and a status message, committed to a store. */
import { createHash } from 'node:crypto'
import type { IncomingMessage, ReadingStore } from '../../gateway/store/types.js'

export interface FillOptions {
  node: string
  auth?: IncomingMessage['auth']
  bound?: boolean
  /** Newest reading time, ms. */
  endMs: number
  spanMs: number
  everyMs: number
  status?: Record<string, unknown>
}

/**
 * One PMS5003 reading (pm1, pm25, pm10, pm25Cf1) and one BME280 reading (temperature, humidity), and an MH-Z19B
 * CO2 reading, every `everyMs` over `spanMs`, with values that vary smoothly and deterministically.
 */
export async function fillNode(store: ReadingStore, o: FillOptions): Promise<number> {
  const batch: IncomingMessage[] = []
  let seq = 0
  for (let t = o.endMs - o.spanMs; t <= o.endMs; t += o.everyMs) {
    const k = (t - (o.endMs - o.spanMs)) / o.spanMs
    const wave = Math.sin(k * Math.PI * 6)
    const base = { node: o.node, time: t, receivedAt: t + 120, auth: o.auth ?? 'dnssec', profile: 'compact', bound: o.bound ?? true }
    const pm25 = round(12 + 8 * wave + 10 * k)
    batch.push({
      ...base,
      seq: o.bound === false ? null : seq++,
      digest: sha(`d-${o.node}-${t}-pm`),
      sensor: 'pms0',
      model: 'pms5003',
      values: { pm1: round(pm25 * 0.7), pm25, pm10: round(pm25 * 1.6), pm25Cf1: round(pm25 * 1.3) },
    })
    batch.push({
      ...base,
      seq: o.bound === false ? null : seq++,
      digest: sha(`d-${o.node}-${t}-bme`),
      sensor: 'bme0',
      model: 'bme280',
      values: { temperature: round(21 + 3 * wave), humidity: round(45 + 10 * wave) },
    })
    batch.push({
      ...base,
      seq: o.bound === false ? null : seq++,
      digest: sha(`d-${o.node}-${t}-co2`),
      sensor: 'mhz0',
      model: 'mh-z19b',
      values: { co2: Math.round(600 + 200 * wave) },
    })
  }
  if (o.status !== undefined) {
    batch.push({
      node: o.node,
      seq: o.bound === false ? null : seq++,
      digest: sha(`d-${o.node}-status`),
      time: o.endMs,
      receivedAt: o.endMs + 100,
      auth: o.auth ?? 'dnssec',
      profile: 'compact',
      bound: o.bound ?? true,
      sensor: null,
      model: null,
      values: {},
      status: o.status,
    })
  }
  const out = await store.commit(batch)
  return out.filter((x) => x === 'stored').length
}

const round = (x: number): number => Math.round(x * 10) / 10
const sha = (s: string): string => createHash('sha256').update(s).digest('hex')
