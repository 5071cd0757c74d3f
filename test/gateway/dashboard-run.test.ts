/**
 * The dashboard after a real run: `daneel gateway` fed by sealed readings from real lab identities through Mosquitto,
 * then Debian's chromium (playwright-core) on its dashboard: every chart has the points the API returns, the AQI
 * shown is gateway/aqi's over the stored rows, a live reading arrives over SSE after its commit; screenshot written
 * to build/artifacts/dashboard-run.png. Fails (never skips) without /usr/bin/chromium.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { chromium } from 'playwright-core'
import { nodeAqi } from '../../gateway/aqi/node-aqi.js'
import type { ReadingRow } from '../../gateway/store/types.js'
import { sequencePath } from '../../messaging/sequence.js'
import { GATEWAY, readingLine, sendLines, startFleet, startGatewayLab, startGatewayProcess } from '../../testkit/gateway-lab.js'
import { repoPath as rootPath } from '../../testkit/paths.js'

const CHROMIUM = '/usr/bin/chromium'
const CHARTS: Record<string, string[]> = { pm: ['pm1', 'pm25', 'pm10'], co2: ['co2'], temperature: ['temperature'], humidity: ['humidity'] }
const PER_NODE = 400
const SPAN_S = 14 * 3600 // 14 hours of readings: the AQI needs the last 12 complete hours

test('dashboard in chromium after a real gateway run', { timeout: 300_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (scripts/install-test-deps.sh)`)
  const w = await startGatewayLab('daneel-dashrun-', 2)
  const profile = mkdtempSync(join(tmpdir(), 'daneel-chromium-'))
  try {
    const gw = await startGatewayProcess(w)
    await gw.ready()
    const origin = `http://127.0.0.1:${gw.httpPort}`
    const fleet = startFleet(w, PER_NODE, 0, SPAN_S)
    assert.equal(await fleet.done, 0, fleet.out())
    const end = Date.now() + 60_000
    let stored = 0
    while (stored < 2 * PER_NODE && Date.now() < end) {
      const m = await (await fetch(`${origin}/metrics`)).text()
      stored = Number(/daneel_readings_stored_total (\d+)/.exec(m)?.[1] ?? 0)
      if (stored < 2 * PER_NODE) await new Promise((r) => setTimeout(r, 100))
    }
    assert.equal(stored, 2 * PER_NODE)
    assert.equal((await fetch(`${origin}/healthz`)).status, 200)

    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    })
    try {
      const page = context.pages()[0] ?? (await context.newPage())
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(`${origin}/`)
      await page.waitForSelector('body[data-loaded]', { timeout: 30_000 })
      const node = w.nodes[0] as string
      for (const n of w.nodes) {
        const query = await page.getAttribute(`section.node[data-node="${n}"]`, 'data-query')
        assert.ok(query, n)
        const rows = (await (await fetch(`${origin}/api/readings?${query}`)).json()) as ReadingRow[]
        for (const [chart, keys] of Object.entries(CHARTS)) {
          const seen = new Set<string>()
          for (const r of rows) for (const k of keys) if (typeof r.values[k] === 'number') seen.add(`${r.time}|${k}`)
          const shown = Number(await page.getAttribute(`section.node[data-node="${n}"] .chart[data-chart="${chart}"]`, 'data-points'))
          assert.ok(shown > 0, `${n} ${chart} has points`)
          assert.equal(shown, seen.size, `${n} ${chart}`)
        }
        assert.equal(await page.getAttribute(`section.node[data-node="${n}"] .badge`, 'data-trust'), 'dnssec')
      }
      // the AQI: what gateway/aqi computes over every stored row of the node, at the same moment
      const all = (await (await fetch(`${origin}/api/readings?node=${node}&limit=10000`)).json()) as ReadingRow[]
      assert.equal(all.length, PER_NODE)
      const want = nodeAqi(all, Date.now(), { scheme: 'us-epa', correction: 'none' })
      assert.ok(want, 'an AQI from 14 hours of readings')
      assert.equal(await page.textContent(`section.node[data-node="${node}"] .aqi .value`), String(want.value))

      // one more reading, sealed by `daneel send NAME -`: on the chart over SSE once committed
      await page.waitForSelector('#live:not(.off)')
      const sel = `section.node[data-node="${node}"] .chart[data-chart="pm"]`
      const before = Number(await page.getAttribute(sel, 'data-points'))
      // the fleet used seq 0..PER_NODE-1: the node's counter continues after them (a reused seq is a duplicate)
      const seqFile = sequencePath(join(w.dir, `state-${node}`), node)
      mkdirSync(dirname(seqFile), { recursive: true })
      writeFileSync(seqFile, `{"reserved":${PER_NODE}}\n`)
      const sent = await sendLines(w, node, [readingLine(PER_NODE)])
      assert.equal(sent.code, 0, sent.out)
      assert.equal((JSON.parse(sent.out.trim().split('\n').at(-1) as string) as { to: string }).to, GATEWAY)
      await page.waitForFunction(`Number(document.querySelector(${JSON.stringify(sel)})?.getAttribute('data-points')) === ${before + 3}`)

      const dir = rootPath('build/artifacts')
      mkdirSync(dir, { recursive: true })
      const file = join(dir, 'dashboard-run.png')
      await page.screenshot({ path: file, fullPage: true })
      assert.ok(statSync(file).size > 10_000)
      assert.deepEqual(errors, [])
    } finally {
      await context.close()
    }
    gw.proc.kill('SIGTERM')
    assert.equal(await gw.exited(), 0, gw.stderr())
  } finally {
    rmSync(profile, { recursive: true, force: true })
    await w.stop()
  }
})
