/** AQI, NowCast, CAQI and the EPA 2021 PM2.5 correction against published tables and worked examples (test/fixtures/aqi). */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { caqi } from '../../gateway/aqi/caqi.js'
import { eaqi } from '../../gateway/aqi/eaqi.js'
import { correctPm25Epa2021 } from '../../gateway/aqi/epa-correction.js'
import { HOUR_MS, nodeAqi } from '../../gateway/aqi/node-aqi.js'
import { nowcast } from '../../gateway/aqi/nowcast.js'
import { usAqi } from '../../gateway/aqi/us-epa.js'
import type { ReadingRow } from '../../gateway/store/types.js'
import { repoPath as rootPath } from '../../testkit/paths.js'

interface Vectors {
  usAqi: { pollutant: 'pm25' | 'pm10'; c: number; aqi: number; category: string; source: string }[]
  nowcast: { pollutant: 'pm25' | 'pm10'; hourlyNewestFirst: (number | null)[]; expected: number | null; source: string }[]
  caqi: { pollutant: 'pm25' | 'pm10'; c: number; index?: number; category: string; source: string }[]
  epa2021: { cf1: number; rh: number; expected: number; source: string }[]
  eaqi: { pollutant: 'pm25' | 'pm10'; c: number; level: number; category: string; source: string }[]
}
const v = JSON.parse(readFileSync(rootPath('test/fixtures/aqi/vectors.json'), 'utf8')) as Vectors

describe('US EPA AQI (2024 breakpoints)', () => {
  for (const t of v.usAqi) {
    it(`${t.pollutant} ${t.c} -> ${t.aqi} (${t.source})`, () => {
      const r = usAqi(t.pollutant, t.c)
      assert.ok(r)
      assert.equal(r.aqi, t.aqi)
      assert.equal(r.category, t.category)
      assert.equal(r.beyond, false)
    })
  }
  it('above the table is flagged beyond the AQI, still hazardous and above 500', () => {
    const r = usAqi('pm25', 400)
    assert.ok(r)
    assert.equal(r.beyond, true)
    assert.equal(r.category, 'hazardous')
    assert.ok(r.aqi > 500)
  })
  it('refuses negative and non-finite concentrations', () => {
    assert.equal(usAqi('pm25', -1), null)
    assert.equal(usAqi('pm10', Number.NaN), null)
  })
})

describe('NowCast', () => {
  for (const t of v.nowcast) {
    it(t.source, () => assert.equal(nowcast(t.hourlyNewestFirst, t.pollutant), t.expected))
  }
  it('PM10 NowCast truncates to 1 ug/m3', () => {
    assert.equal(nowcast([40.9, 40.9, 40.9], 'pm10'), 40)
  })
})

describe('CAQI (CITEAIR hourly grid)', () => {
  for (const t of v.caqi) {
    it(t.source, () => {
      const r = caqi(t.pollutant, t.c)
      assert.ok(r)
      assert.equal(r.category, t.category)
      if (t.index !== undefined) assert.equal(r.index, t.index)
      else assert.ok(r.index > 100)
    })
  }
})

describe('EAQI (EEA 2024 bands)', () => {
  for (const t of v.eaqi) {
    it(`${t.pollutant} ${t.c} -> ${t.category} (${t.source})`, () =>
      assert.deepEqual(eaqi(t.pollutant, t.c), { level: t.level, category: t.category }))
  }
  it('refuses negative concentrations', () => assert.equal(eaqi('pm25', -0.1), null))
})

describe('EPA 2021 PM2.5 correction', () => {
  for (const t of v.epa2021) {
    it(t.source, () => {
      const r = correctPm25Epa2021(t.cf1, t.rh)
      assert.ok(r !== null)
      assert.ok(Math.abs(r - t.expected) < 1e-9, `${r} != ${t.expected}`)
    })
  }
  it('refuses RH outside 0-100', () => assert.equal(correctPm25Epa2021(10, 101), null))
})

describe('nodeAqi', () => {
  const now = Date.UTC(2026, 0, 1, 12, 30)
  const hourStart = Date.UTC(2026, 0, 1, 12)
  const ex = v.nowcast[0] as Vectors['nowcast'][number]
  // Two readings per hour whose mean is the worked example's hourly value; plus a reading in the current
  // (incomplete) hour that must be ignored.
  const rows: ReadingRow[] = []
  ex.hourlyNewestFirst.forEach((c, i) => {
    const t0 = hourStart - (i + 1) * HOUR_MS
    for (const [dt, d] of [
      [5, -1],
      [35, 1],
    ] as const) {
      rows.push(row(t0 + dt * 60_000, { pm25: (c as number) + d, pm10: 20, pm25Cf1: 30, humidity: 50 }))
    }
  })
  rows.push(row(hourStart + 60_000, { pm25: 500, pm10: 500 }))

  it('us-epa: NowCast of the hourly means, then the 2024 AQI; the worst pollutant wins', () => {
    const r = nodeAqi(rows, now, { scheme: 'us-epa', correction: 'none' })
    assert.ok(r)
    assert.equal(r.pollutants.pm25?.concentration, 17.4)
    assert.equal(r.pollutants.pm25?.index, 66)
    assert.equal(r.pollutants.pm10?.index, usAqi('pm10', 20)?.aqi)
    assert.equal(r.value, 66)
    assert.equal(r.dominant, 'pm25')
    assert.equal(r.corrected, null)
    assert.equal(r.hour, new Date(hourStart - HOUR_MS).toISOString())
  })
  it('epa-2021: PM2.5 recomputed from CF=1 and RH, and labelled corrected', () => {
    const r = nodeAqi(rows, now, { scheme: 'us-epa', correction: 'epa-2021' })
    assert.ok(r)
    // Every hour: 0.52*30 - 0.086*50 + 5.75 = 17.05 -> NowCast 17.0 (truncated)
    assert.equal(r.pollutants.pm25?.concentration, 17.0)
    assert.match(r.corrected ?? '', /corrected/)
  })
  it('caqi: the last complete hour', () => {
    const r = nodeAqi(rows, now, { scheme: 'caqi', correction: 'none' })
    assert.ok(r)
    assert.equal(r.pollutants.pm25?.concentration, 13)
    assert.equal(r.pollutants.pm25?.index, caqi('pm25', 13)?.index)
  })
  it('eaqi: the band of the last complete hour', () => {
    const r = nodeAqi(rows, now, { scheme: 'eaqi', correction: 'none' })
    assert.ok(r)
    // pm25 13 -> fair (5-15), pm10 20 -> fair (15-45): level 2
    assert.equal(r.value, 2)
    assert.equal(r.category, 'fair')
  })
  it('no PM data: null', () => {
    assert.equal(nodeAqi([row(hourStart - 1000, { co2: 400 })], now, { scheme: 'us-epa', correction: 'none' }), null)
  })
})

function row(t: number, values: Record<string, number>): ReadingRow {
  const iso = new Date(t).toISOString()
  return { node: 'n1', seq: null, time: iso, receivedAt: iso, auth: 'dnssec', bound: true, sensor: 's', model: 'pms5003', values }
}
