/** bench:scale-workers — readings/s of `daneel gateway --source amqp://…` workers draining the cluster's quorum queue into PostgreSQL: 1 and 2 workers, side by side. */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import amqp from 'amqplib'
import pg from 'pg'
import { cliPath } from '../testkit/paths.js'
import { startPostgres } from '../testkit/postgres.js'
import { startRabbitCluster } from '../testkit/rabbitmq.js'
import { type Fleet, sealReading, startFleet, startWorker, type Worker } from '../testkit/scale-fleet.js'

// Method: N readings from 50 nodes are sealed once (timed: the sealer's cost is of the order of the opener's),
// then, for each run, published into the gateway's quorum queue with no consumer (confirmed), so the workers
// start on a full queue and what is measured is theirs alone. W `daneel gateway --source amqp://… --store
// postgres://…` processes (build/cli/main.js; the real opener against the Knot lab, group commit, PostgreSQL)
// are spawned together on a fresh database, and the database is polled every 50 ms. readings/s is taken between
// 10 % and 90 % of N stored (steady state: no process start-up, no cold DNS cache, no tail); `seconds` is from
// the spawn to the last row, start-up included. The peer is the same pipeline with one worker.
const json = process.argv.includes('--json')
const N = Number(process.env.BENCH_READINGS ?? '6000')
const NODES = 50
const dirs = ['daneel-bench-scale-', 'daneel-bench-rmq-', 'daneel-bench-pg-'].map((p) => mkdtempSync(join(tmpdir(), p)))
const [base, rmqDir, pgDir] = dirs as [string, string, string]
const loadBefore = loadavg().map((x) => x.toFixed(1))

interface Row {
  workers: number
  readings: number
  seconds: number
  readings_per_s: number
  split: number[]
  duplicates: number
}

async function run(workers: number, fleet: Fleet, sealed: Buffer[], amqpUrls: string[], db: string): Promise<Row> {
  const conn = await amqp.connect(amqpUrls[0] as string)
  const ch = await conn.createConfirmChannel()
  for (const s of sealed) ch.publish('amq.topic', fleet.recipient, s, { persistent: true })
  await ch.waitForConfirms()
  await conn.close()
  const client = new pg.Client({ connectionString: db })
  await client.connect()
  const start = performance.now()
  const marks: { at10?: number; at90?: number; end?: number } = {}
  const poll = (async () => {
    for (;;) {
      const n = await client.query<{ n: string }>('SELECT coalesce(sum(readings), 0) AS n FROM nodes').then(
        (r) => Number(r.rows[0]?.n),
        () => 0, // the workers create the schema: until then the query fails
      )
      const now = performance.now()
      if (marks.at10 === undefined && n >= N * 0.1) marks.at10 = now
      if (marks.at90 === undefined && n >= N * 0.9) marks.at90 = now
      if (n >= N) {
        marks.end = now
        return
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  const procs: Worker[] = await Promise.all(
    Array.from({ length: workers }, (_, w) => startWorker(fleet, [...amqpUrls.slice(w), ...amqpUrls.slice(0, w)], db)),
  )
  await poll
  await client.end()
  const counts = await Promise.all(procs.map((p) => p.counts()))
  for (const p of procs) p.proc.kill('SIGTERM')
  await Promise.all(procs.map((p) => (p.proc.exitCode !== null ? undefined : new Promise((r) => p.proc.once('exit', r)))))
  const { at10 = start, at90 = start, end = start } = marks
  return {
    workers,
    readings: N,
    seconds: (end - start) / 1000,
    readings_per_s: (0.8 * N) / Math.max(0.001, (at90 - at10) / 1000),
    split: counts.map((c) => c?.stored ?? Number.NaN),
    duplicates: counts.reduce((a, c) => a + (c?.duplicates ?? 0), 0),
  }
}

// started together; if one fails, the others are stopped before the error is reported
const started = await Promise.allSettled([startRabbitCluster(rmqDir, 3), startPostgres(pgDir), startFleet(NODES, base)])
const [cluster, pgServer, fleet] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined)) as [
  Awaited<ReturnType<typeof startRabbitCluster>>,
  Awaited<ReturnType<typeof startPostgres>>,
  Fleet,
]
try {
  for (const s of started) if (s.status === 'rejected') throw s.reason
  const amqpUrls = cluster.nodes.map((n) => n.amqpUrl)
  // the setup step: the queue and binding exist before anything is published
  const setup = spawnSync(process.execPath, [cliPath, 'gateway', '--source', amqpUrls.join(','), '--declare-only'], {
    env: fleet.env,
    encoding: 'utf8',
  })
  if (setup.status !== 0) throw new Error(`--declare-only failed: ${setup.stderr}`)
  const now = Date.now()
  const t0 = performance.now()
  const sealed = Array.from({ length: N }, (_, k) => Buffer.from(sealReading(fleet, k % NODES, Math.floor(k / NODES), now)))
  const sealUs = ((performance.now() - t0) / N) * 1000
  const rows: Row[] = []
  for (const workers of [1, 2]) rows.push(await run(workers, fleet, sealed, amqpUrls, await pgServer.createDatabase(`w${workers}`)))
  const load = [
    loadBefore.join(' '),
    loadavg()
      .map((x) => x.toFixed(1))
      .join(' '),
  ]
  if (json) {
    for (const r of rows)
      process.stdout.write(
        `${JSON.stringify({ bench: 'scale-workers', ...r, seal_us: sealUs, cores: cpus().length, load: loadavg()[0] })}\n`,
      )
  } else {
    process.stdout.write(
      `bench:scale-workers  ${N} sealed readings (${NODES} nodes, P-256) from a full quorum queue on a 3-node RabbitMQ cluster into PostgreSQL\n` +
        `${cpus().length} cores, node ${process.version}, load average before ${load[0]}, after ${load[1]}; cluster formed in ${(cluster.startMs / 1000).toFixed(1)} s\n` +
        `sealing (the publisher's cost, of the order of the opener's): ${sealUs.toFixed(0)} µs per reading\n`,
    )
    process.stdout.write('| workers | readings | s (spawn → last row) | readings/s (10-90 %) | stored per worker | duplicates |\n')
    process.stdout.write('|--:|--:|--:|--:|---|--:|\n')
    for (const r of rows)
      process.stdout.write(
        `| ${r.workers} | ${r.readings} | ${r.seconds.toFixed(1)} | ${r.readings_per_s.toFixed(0)} | ${r.split.join(' / ')} | ${r.duplicates} |\n`,
      )
  }
} finally {
  await Promise.all([cluster?.stop(), pgServer?.stop(), fleet?.lab.stop()])
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}
