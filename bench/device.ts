/** bench/device: heap allocated per reading (frame in, seal, outbox, publish), a 1,000,000-reading soak, start to first publication; against jose + MQTT.js. */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startMosquitto } from '../testkit/mosquitto.js'
import { DUTY, daneelPipeline, josePipeline, measureAllocated, mqttOnlyPipeline, type Pipeline, type Stage } from './device-pipeline.js'
import { measureStartup } from './device-startup.js'

/** The systemd unit's flags (systemd/daneel.service ExecStart); --expose-gc only so the soak can sample settled heap. */
export const UNIT_FLAGS = ['--max-old-space-size=48', '--max-semi-space-size=1']
const self = fileURLToPath(import.meta.url)
const mb = (n: number): number => Math.round((n / 1048576) * 10) / 10

interface Row {
  measure: string
  impl: string
  value: number
  unit: string
  note: string
}

/** Child side: one measurement in a process started with the unit's flags; prints one JSON line. */
async function child(kind: string, impl: string, n: number, url: string): Promise<void> {
  const p: Pipeline =
    impl === 'jose'
      ? await josePipeline(url)
      : impl === 'mqttjs'
        ? await mqttOnlyPipeline(url)
        : impl === 'daneel-duty'
          ? await daneelPipeline(url, 'full', true)
          : await daneelPipeline(url, impl === 'daneel' ? 'full' : (impl as Stage))
  await p.run(2000) // warm-up: JIT, buffers, connection
  if (kind === 'steady') {
    // In chunks: GCProfiler keeps every GC's statistics until stop(), and with a 1 MB semi-space a long run
    // collects thousands of them (enough to exhaust a 48 MB heap when they are returned).
    const t0 = performance.now()
    let bytes = 0
    for (let done = 0; done < n; done += 2000) bytes += await measureAllocated(() => p.run(Math.min(2000, n - done)))
    const secs = (performance.now() - t0) / 1000
    process.stdout.write(`${JSON.stringify({ bytesPerReading: bytes / n, perSecond: n / secs })}\n`)
  } else {
    const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
    const samples: Array<{ at: number; heapUsed: number; rss: number }> = []
    gc()
    const settledStart = process.memoryUsage().heapUsed
    const t0 = performance.now()
    await p.run(n, (done) => {
      const m = process.memoryUsage()
      samples.push({ at: done, heapUsed: m.heapUsed, rss: m.rss })
    })
    const secs = (performance.now() - t0) / 1000
    gc()
    const settledEnd = process.memoryUsage().heapUsed
    const end = process.memoryUsage()
    samples.push({ at: n, heapUsed: end.heapUsed, rss: end.rss })
    process.stdout.write(
      `${JSON.stringify({ perSecond: n / secs, settledStart, settledEnd, maxHeap: Math.max(...samples.map((s) => s.heapUsed)), maxRss: Math.max(...samples.map((s) => s.rss)), samples })}\n`,
    )
  }
  await p.close()
}

function runChild(kind: string, impl: string, n: number, url: string): Record<string, number> {
  const r = spawnSync(
    process.execPath,
    [...UNIT_FLAGS, '--expose-gc', self, '--child', kind, '--impl', impl, '--n', String(n), '--url', url],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
  const line = r.stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as Record<string, number>
  } catch {
    throw new Error(`child ${kind}/${impl} failed (status ${r.status}): ${r.stderr.slice(-2000)}`)
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      child: { type: 'string' },
      impl: { type: 'string' },
      n: { type: 'string' },
      url: { type: 'string' },
      steady: { type: 'string' },
      soak: { type: 'string' },
      'no-startup': { type: 'boolean' },
    },
  })
  if (values.child !== undefined) return child(values.child, values.impl ?? 'daneel', Number(values.n), values.url ?? '')
  const steady = Number(values.steady ?? 20_000)
  const soak = Number(values.soak ?? 1_000_000)
  const dir = mkdtempSync(join(tmpdir(), 'daneel-bench-'))
  // Mosquitto (the broker a fleet would use) in its own process, so its allocations are not counted as ours.
  const broker = await startMosquitto({ dir: join(dir, 'mosquitto'), persistence: false, maxQueuedMessages: 100_000 })
  const rows: Row[] = []
  // The machine's load at the start and at the end: figures from a shared machine are read against it.
  const loadAt = (when: string): Row => ({
    measure: `machine load (1 min) at the ${when}`,
    impl: `${cpus().length} CPUs, node ${process.version}`,
    value: Math.round((loadavg()[0] ?? 0) * 10) / 10,
    unit: 'load',
    note: '',
  })
  rows.push(loadAt('start'))
  try {
    const labels: Record<string, string> = {
      'daneel-duty': `daneel, duty cycling on (${DUTY.intervalMs / 1000} s interval: ${(DUTY.warmupMs + DUTY.windowMs) / 1000} frames, wake, sleep, one window reading)`,
      daneel: 'daneel (driver, loop, createSealer, disk outbox, OutboxSender, QoS 1)',
      jose: 'peer: same driver, jose CompactSign+CompactEncrypt, MQTT.js own store, QoS 1',
      loop: 'daneel up to sealing (breakdown: driver, loop, createSealer)',
      outbox: 'daneel up to the disk outbox (breakdown: + DiskOutbox.append)',
      mqttjs: 'floor: MQTT.js alone, QoS 1 publish of a sealed 800 B payload',
    }
    for (const impl of ['daneel-duty', 'daneel', 'jose', 'loop', 'outbox', 'mqttjs']) {
      // A duty-cycled reading is 40 frames and 60 s of fake time: a tenth as many make the same measure.
      const r = runChild('steady', impl, impl === 'daneel-duty' ? Math.ceil(steady / 10) : steady, broker.url)
      const label = labels[impl] as string
      const whole = impl === 'daneel' || impl === 'jose' || impl === 'daneel-duty'
      rows.push({
        measure: 'allocated per reading',
        impl: label,
        value: Math.round(r.bytesPerReading as number),
        unit: 'bytes',
        note: `${whole ? 'goal <= 16384; ' : ''}${impl === 'daneel-duty' ? Math.ceil(steady / 10) : steady} readings`,
      })
      if (whole)
        rows.push({
          measure: 'throughput',
          impl: label,
          value: Math.round(r.perSecond as number),
          unit: 'readings/s',
          note: 'full speed, P-256, loopback Mosquitto',
        })
    }
    if (soak > 0) {
      const s = runChild('soak', 'daneel', soak, broker.url)
      rows.push({
        measure: `soak ${soak} readings: heap after GC, start -> end`,
        impl: 'daneel',
        value: mb((s.settledEnd as number) - (s.settledStart as number)),
        unit: 'MB growth',
        note: `${mb(s.settledStart as number)} -> ${mb(s.settledEnd as number)} MB`,
      })
      rows.push({
        measure: `soak ${soak} readings: max heap used`,
        impl: 'daneel',
        value: mb(s.maxHeap as number),
        unit: 'MB',
        note: `flags ${UNIT_FLAGS.join(' ')}`,
      })
      rows.push({
        measure: `soak ${soak} readings: max RSS`,
        impl: 'daneel',
        value: mb(s.maxRss as number),
        unit: 'MB',
        note: 'goal <= 64',
      })
      rows.push({
        measure: `soak ${soak} readings: throughput`,
        impl: 'daneel',
        value: Math.round(s.perSecond as number),
        unit: 'readings/s',
        note: '',
      })
    }
    if (values['no-startup'] !== true) {
      const root = join(dirname(self), '..', '..')
      for (const st of await measureStartup(root, broker.url, dir, UNIT_FLAGS)) rows.push(st)
      // The bundle once more, its PM sensor duty-cycled (a window a second apart): its RSS with the duty cycle running.
      for (const st of await measureStartup(root, broker.url, join(dir, 'duty'), UNIT_FLAGS, { duty: true })) rows.push(st)
    }
    rows.push(loadAt('end'))
  } finally {
    await broker.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  if (values.json === true) {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`)
    return
  }
  const w = [Math.max(...rows.map((r) => r.measure.length)), Math.max(...rows.map((r) => r.impl.length))]
  process.stdout.write(
    `${'measure'.padEnd(w[0] as number)}  ${'implementation'.padEnd(w[1] as number)}  ${'value'.padStart(10)}  unit        note\n`,
  )
  for (const r of rows)
    process.stdout.write(
      `${r.measure.padEnd(w[0] as number)}  ${r.impl.padEnd(w[1] as number)}  ${String(r.value).padStart(10)}  ${r.unit.padEnd(10)}  ${r.note}\n`,
    )
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/device: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exitCode = 1
})
