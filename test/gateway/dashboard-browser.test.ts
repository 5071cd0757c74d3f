/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core over a filled store. Each chart has
 * its data points, the AQI shown is the one gateway/aqi computes, live events add points, and a screenshot is
 * written to build/artifacts/dashboard.png. Without /usr/bin/chromium this test fails: it is a required check.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { HOUR_MS, nodeAqi } from '../../gateway/aqi/node-aqi.js'
import { createGatewayHttp, type GatewayHttp } from '../../gateway/http/server.js'
import type { ReadingRow } from '../../gateway/store/types.js'
import { repoPath as rootPath } from '../../testkit/paths.js'
import { fillNode } from './fill.js'
import { MemoryStore } from './memory-store.js'

const CHROMIUM = '/usr/bin/chromium'
const CHART_KEYS: Record<string, string[]> = {
  pm: ['pm1', 'pm25', 'pm10'],
  co2: ['co2'],
  temperature: ['temperature'],
  humidity: ['humidity'],
}
const AIR = 'air1._device.example.org'
const LEGACY = 'old1._device.legacy.example'

describe('dashboard in chromium', () => {
  const NOW = Date.now()
  const store = new MemoryStore()
  let http: GatewayHttp
  let origin = ''
  let profile = ''
  let context: BrowserContext | null = null
  let page: Page
  const pageErrors: string[] = []
  const foreign: string[] = []

  before(async () => {
    // A required check: fail (not skip) so a machine without the browser cannot pass silently.
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (scripts/install-test-deps.sh)`)
    await fillNode(store, {
      node: AIR,
      endMs: NOW - 30_000,
      spanMs: 24 * HOUR_MS,
      everyMs: 5 * 60_000,
      status: { uptimeS: 86_400, readings: 864, sensors: [{ sensor: 'pms0', model: 'pms5003', health: 'ok' }] },
    })
    await fillNode(store, { node: LEGACY, bound: false, endMs: NOW - 30_000, spanMs: 3 * HOUR_MS, everyMs: 10 * 60_000 })
    http = createGatewayHttp({ store, health: () => ({ ok: true }), now: () => NOW })
    origin = `http://127.0.0.1:${(await http.listen('127.0.0.1', 0)).port}`
    profile = mkdtempSync(join(tmpdir(), 'daneel-chromium-'))
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    })
    page = context.pages()[0] ?? (await context.newPage())
    page.on('pageerror', (e) => pageErrors.push(e.message))
    page.on('request', (r) => {
      if (!r.url().startsWith(origin)) foreign.push(r.url())
    })
    await page.goto(`${origin}/`)
    await page.waitForSelector('body[data-loaded]', { timeout: 30_000 })
  })

  after(async () => {
    await context?.close()
    await http?.close()
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  it('every chart of every node has the data points the API returns for its query', async () => {
    for (const node of [AIR, LEGACY]) {
      const query = await page.getAttribute(`section.node[data-node="${node}"]`, 'data-query')
      assert.ok(query, node)
      const rows = (await (await fetch(`${origin}/api/readings?${query}`)).json()) as ReadingRow[]
      assert.ok(rows.length > 0)
      for (const [chart, keys] of Object.entries(CHART_KEYS)) {
        // Expected: one point per distinct (step time, key) in the API's answer.
        const seen = new Set<string>()
        for (const r of rows) for (const k of keys) if (typeof r.values[k] === 'number') seen.add(`${r.time}|${k}`)
        const sel = `section.node[data-node="${node}"] .chart[data-chart="${chart}"]`
        const shown = Number(await page.getAttribute(sel, 'data-points'))
        assert.equal(shown, seen.size, `${node} ${chart}`)
        assert.ok(shown > 0, `${node} ${chart} has points`)
        assert.equal(await page.locator(`${sel} canvas`).count(), 1, `${node} ${chart} drawn`)
      }
    }
    // 24 h at a 300 s step: about 288 steps of 3 PM keys on the main node.
    const pm = Number(await page.getAttribute(`section.node[data-node="${AIR}"] .chart[data-chart="pm"]`, 'data-points'))
    assert.ok(pm >= 3 * 280, `pm points ${pm}`)
  })

  it('trust badges and health come from the store', async () => {
    assert.equal(await page.getAttribute(`section.node[data-node="${AIR}"] .badge`, 'data-trust'), 'dnssec')
    assert.equal(await page.getAttribute(`section.node[data-node="${LEGACY}"] .badge`, 'data-trust'), 'legacy')
    assert.equal(await page.getAttribute(`section.node[data-node="${AIR}"] .health`, 'data-health'), 'ok')
  })

  it('the AQI shown is the one gateway/aqi computes from the stored readings', async () => {
    const want = nodeAqi(await store.readings({ node: AIR }), NOW, { scheme: 'us-epa', correction: 'none' })
    assert.ok(want)
    const shown = await page.textContent(`section.node[data-node="${AIR}"] .aqi .value`)
    assert.equal(shown, String(want.value))
    // The EPA 2021 correction: recomputed by the server, and labelled as corrected.
    await page.check('#correction')
    await page.waitForSelector(`section.node[data-node="${AIR}"] .aqi .corrected`)
    const corrected = nodeAqi(await store.readings({ node: AIR }), NOW, { scheme: 'us-epa', correction: 'epa-2021' })
    assert.ok(corrected)
    assert.equal(await page.textContent(`section.node[data-node="${AIR}"] .aqi .value`), String(corrected.value))
    await page.uncheck('#correction')
    await page.waitForSelector(`section.node[data-node="${AIR}"] .aqi .corrected`, { state: 'detached' })
  })

  it('a published reading appears on the charts over server-sent events', async () => {
    await page.waitForSelector('#live:not(.off)')
    const sel = `section.node[data-node="${AIR}"] .chart[data-chart="pm"]`
    const before = Number(await page.getAttribute(sel, 'data-points'))
    const t = new Date(NOW + 1000).toISOString()
    http.publish({
      node: AIR,
      seq: 99_999,
      time: t,
      receivedAt: t,
      auth: 'dnssec',
      bound: true,
      sensor: 'pms0',
      model: 'pms5003',
      values: { pm1: 5, pm25: 7, pm10: 9 },
    })
    // A string: the expression runs in the page (this project compiles without the DOM lib).
    await page.waitForFunction(`Number(document.querySelector(${JSON.stringify(sel)})?.getAttribute('data-points')) === ${before + 3}`)
  })

  it('writes a screenshot artifact; loaded nothing from elsewhere; no page errors', async () => {
    const dir = rootPath('build/artifacts')
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'dashboard.png')
    await page.screenshot({ path: file, fullPage: true })
    assert.ok(statSync(file).size > 10_000)
    assert.deepEqual(foreign, [])
    assert.deepEqual(pageErrors, [])
  })
})
