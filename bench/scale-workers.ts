/** bench:scale-workers — readings/s through the 3-node RabbitMQ cluster into PostgreSQL with 1 and with 2 gateway workers, side by side. */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import amqp from 'amqplib'
import pg from 'pg'
import { startPostgres } from '../testkit/postgres.js'
import { startRabbitCluster } from '../testkit/rabbitmq.js'
import { makeFleet, sealReading, writeFleet } from '../testkit/scale-fleet.js'

// Method: the readings are sealed first (timed: the sealer's cost, which is of the order of the opener's),
// then published into the gateway's quorum queue with no consumer, so the workers start on a full queue
// and the time measured is theirs alone: from starting W workers (testkit/scale-worker.ts: AMQP source, the
// real opener, group-commit ingest, PostgreSQL store) until the database holds every reading. Each run gets a
// fresh database. The peer is the same pipeline with one worker.
const N = Number(process.env.BENCH_READINGS ?? '6000')
const NODES = 50
const base = mkdtempSync(join(tmpdir(), 'daneel-bench-scale-'))
const rmqDir = mkdtempSync(join(tmpdir(), 'daneel-bench-rmq-'))
const pgDir = mkdtempSync(join(tmpdir(), 'daneel-bench-pg-'))
const workerJs = join(dirname(fileURLToPath(import.meta.url)), '..', 'testkit', 'scale-worker.js')

const [cluster, db] = await Promise.all([startRabbitCluster(rmqDir, 3), startPostgres(pgDir)])
try {
  const fleet = makeFleet(NODES)
  const fleetPath = join(base, 'fleet.json')
  writeFleet(fleetPath, fleet)
  const amqpUrls = cluster.nodes.map((n) => n.amqpUrl)
  const queue = `daneel.${fleet.recipient}`
  const conn = await amqp.connect(amqpUrls[0] as string)
  const ch = await conn.createConfirmChannel()
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
  await ch.bindQueue(queue, 'amq.topic', fleet.recipient)

  const rows: { workers: number; seconds: number; perSecond: number; split: string }[] = []
  let sealMs = 0
  for (const workers of [1, 2]) {
    const now = Date.now()
    const t0 = performance.now()
    const sealed = Array.from({ length: N }, (_, k) => sealReading(fleet, k % NODES, Math.floor(k / NODES), now))
    sealMs = performance.now() - t0
    for (const s of sealed) ch.publish('amq.topic', fleet.recipient, Buffer.from(s), { persistent: true })
    await ch.waitForConfirms()
    const pgUrl = await db.createDatabase(`w${workers}`)
    const counts: string[] = []
    const procs: ChildProcess[] = []
    const start = performance.now()
    for (let w = 0; w < workers; w++) {
      const urls = [...amqpUrls.slice(w), ...amqpUrls.slice(0, w)].join(',')
      const p = spawn(process.execPath, [workerJs, fleetPath, pgUrl, urls], { stdio: ['ignore', 'pipe', 'inherit'] })
      p.stdout?.on('data', (d: Buffer) => {
        const last = d
          .toString()
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('count '))
          .pop()
        if (last !== undefined) counts[w] = last.slice(6)
      })
      procs.push(p)
    }
    const client = new pg.Client({ connectionString: pgUrl })
    await client.connect()
    for (;;) {
      try {
        const r = await client.query<{ n: string }>('SELECT coalesce(sum(readings), 0) AS n FROM nodes')
        if (Number(r.rows[0]?.n) >= N) break
      } catch {
        // the workers create the schema: until then the query fails
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    const seconds = (performance.now() - start) / 1000
    await client.end()
    for (const p of procs) p.kill('SIGTERM')
    await Promise.all(procs.map((p) => new Promise((r) => p.once('exit', r))))
    rows.push({ workers, seconds, perSecond: N / seconds, split: counts.map((c, i) => `w${i + 1}: ${c}`).join('; ') })
  }
  await conn.close()
  console.log(`bench:scale-workers — ${N} sealed readings (50 nodes, P-256) from a full quorum queue on a 3-node RabbitMQ`)
  console.log(
    `cluster into PostgreSQL; ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1)}; cluster formed in ${(cluster.startMs / 1000).toFixed(1)} s`,
  )
  console.log(`sealing (the publisher's cost, of the order of the opener's): ${((sealMs / N) * 1000).toFixed(0)} µs per reading`)
  console.log('workers  seconds  readings/s  split (stored per worker)')
  for (const r of rows)
    console.log(`${String(r.workers).padEnd(8)} ${r.seconds.toFixed(1).padStart(7)}  ${r.perSecond.toFixed(0).padStart(10)}  ${r.split}`)
} finally {
  await Promise.all([cluster.stop(), db.stop()])
  for (const d of [base, rmqDir, pgDir]) rmSync(d, { recursive: true, force: true })
}
