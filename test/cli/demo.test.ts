/** `daneel demo` end to end, as `npm start` runs it: verified readings from both nodes, --count/--duration, SIGINT, temp dir removed. */

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { after, test } from 'node:test'
import { cliPath, makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-demo-test-')
after(() => tmp.cleanup())

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs the demo with its own TMPDIR (so the test can check that the demo's temp dir is gone afterwards). */
function demo(
  args: string[],
  opts: { onLine?: (line: string, kill: (s: NodeJS.Signals) => void) => void; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, 'demo', ...args], {
      env: { ...process.env, TMPDIR: tmp.dir, CI: 'true', DANE_ID: '', MQTT_URL: '', DNS_SERVER: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let pending = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.stdout.on('data', (d: Buffer) => {
      stdout += d
      pending += d
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        opts.onLine?.(line, (s) => child.kill(s))
      }
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

test('demo --count 8 --json prints 8 verified readings from both nodes, exits 0 and removes its temp dir', async () => {
  const r = await demo(['--count', '8', '--json', '--interval', '0.5'])
  assert.equal(r.code, 0, r.stderr)
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  const readings = lines.filter((l) => l.reading?.values !== undefined)
  assert.equal(readings.length, 8)
  const senders = new Set(readings.map((l) => l.from))
  assert.deepEqual([...senders].sort(), ['node1.airquality._device.daneel.test', 'node2.airquality._device.daneel.test'])
  for (const l of readings) {
    assert.equal(l.auth, 'dnssec', 'sender keys came from the DNSSEC-validated zone')
    assert.equal(l.claims.aud, 'receiver._device.daneel.test')
    assert.equal(typeof l.claims.seq, 'number')
    assert.ok(['pm', 'co2', 'dust'].includes(l.reading.sensor), l.reading.sensor)
    if (l.reading.sensor === 'co2') assert.ok(l.reading.values.co2 >= 400 && l.reading.values.co2 <= 1600)
    else if (l.reading.sensor === 'dust') assert.ok(l.reading.values.lowRatio > 0 && l.reading.values.lowRatio < 20)
    else assert.ok(l.reading.values.pm25 >= 0 && l.reading.values.pm25 <= 100)
  }
  // Per sender, sequence numbers only grow.
  for (const s of senders) {
    const seqs = readings.filter((l) => l.from === s).map((l) => l.claims.seq)
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    )
  }
  assert.deepEqual(readdirSync(tmp.dir), [], 'temp dir removed')
})

test('demo prints human-friendly lines and stops cleanly on SIGINT', async () => {
  let seen = 0
  let pms = false
  let sent = false
  const r = await demo(['--interval', '0.5'], {
    onLine: (line, kill) => {
      if (/^\d\d:\d\d:\d\d\s+node[12]/.test(line)) seen++
      if (/node1\s+pm\s+pms5003/.test(line)) pms = true
      if (seen >= 3 && pms && !sent) {
        sent = true
        kill('SIGINT')
      }
    },
  })
  assert.equal(r.code, 0, r.stderr)
  assert.ok(seen >= 3)
  assert.match(r.stdout, /node1\s+pm\s+pms5003\s+PM1 \d+\s+PM2\.5 \d+\s+PM10 \d+ µg\/m³/)
  assert.match(r.stdout, /dnssec/)
  assert.match(r.stderr, /readings verified/)
  assert.deepEqual(readdirSync(tmp.dir), [], 'temp dir removed')
})

test('demo --duration stops by itself; bad flags are usage errors', async () => {
  const t0 = Date.now()
  const r = await demo(['--duration', '2', '--json'])
  assert.equal(r.code, 0, r.stderr)
  assert.ok(Date.now() - t0 < 30_000)
  const bad = await demo(['--count', 'many'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /--count must be a positive whole number/)
})
