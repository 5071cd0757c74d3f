/** Chaos: 10,000 sealed readings from 20 nodes through Mosquitto; the gateway SIGKILLed 3 times and restarted; exactly once. */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { startFleet, startGatewayLab, startGatewayProcess } from '../../testkit/gateway-lab.js'

const NODES = 20
const PER_NODE = 500
const KILLS = 3

test('gateway: 10,000 readings, 3 SIGKILLs at random moments, every reading stored exactly once', { timeout: 600_000 }, async () => {
  const w = await startGatewayLab('daneel-chaos-', NODES)
  try {
    const dbPath = join(w.dir, 'gw-state', 'readings.db')
    let gw = await startGatewayProcess(w)
    await gw.ready() // the persistent session exists from here on: the broker queues for it while it is down
    // progress straight from the database (a read-only WAL reader: no load on the gateway), reopened after an error
    let reader: Database.Database | undefined
    let last = 0
    const rows = async (): Promise<number> => {
      try {
        reader ??= new Database(dbPath, { readonly: true, fileMustExist: true })
        last = (reader.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n
      } catch {
        reader?.close()
        reader = undefined
      }
      return last
    }
    // 20 nodes (own keys, connections and sequences) at 25 readings/s each: 500/s for 20 s
    const fleet = startFleet(w, PER_NODE, 25)
    const total0 = NODES * PER_NODE
    const kills: string[] = []
    const t0 = Date.now()
    for (let k = 0; k < KILLS; k++) {
      // a random moment while readings are still coming: after a random share of what is left for this kill
      const now = await rows()
      const target = now + 50 + Math.floor(Math.random() * ((total0 - now) / (KILLS - k + 1)))
      const end = Date.now() + 120_000
      while ((await rows()) < target && Date.now() < end) await new Promise((r) => setTimeout(r, 2 + Math.random() * 8))
      gw.proc.kill('SIGKILL')
      await gw.exited()
      kills.push(`kill ${k + 1} at ${await rows()} rows stored (${Date.now() - t0} ms)`)
      gw = await startGatewayProcess(w, [], { httpPort: gw.httpPort })
      await gw.ready()
    }
    assert.equal(await fleet.done, 0, fleet.out())
    const end = Date.now() + 120_000
    while ((await rows()) < NODES * PER_NODE && Date.now() < end) await new Promise((r) => setTimeout(r, 100))
    // let any redelivery still in flight arrive: it must be counted as a duplicate, not stored
    await new Promise((r) => setTimeout(r, 1000))
    reader?.close()
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text()
    gw.proc.kill('SIGTERM')
    assert.equal(await gw.exited(), 0, gw.stderr())

    const db = new Database(dbPath, { readonly: true })
    const total = (db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n
    const distinct = (db.prepare('SELECT count(*) AS n FROM (SELECT DISTINCT node, seq FROM readings)').get() as { n: number }).n
    const distinctK = (
      db.prepare("SELECT count(*) AS n FROM (SELECT DISTINCT node, json_extract(values_json, '$.k') FROM readings)").get() as { n: number }
    ).n
    const perNode = db.prepare('SELECT node, count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM readings GROUP BY node').all() as {
      node: string
      n: number
      lo: number
      hi: number
    }[]
    db.close()
    const dup = /daneel_readings_duplicate_total (\d+)/.exec(metrics)?.[1]
    process.stdout.write(
      `# chaos: ${kills.join('; ')}\n# chaos: ${total} rows, ${distinct} distinct (node, seq), ${distinctK} distinct readings, ${perNode.length} nodes; duplicates counted by the last gateway run: ${dup}\n`,
    )
    assert.equal(total, NODES * PER_NODE, 'exactly 10,000 rows')
    assert.equal(distinct, total, 'no (node, seq) twice')
    assert.equal(distinctK, total, 'no reading twice (by its content)')
    assert.equal(perNode.length, NODES)
    for (const n of perNode) assert.deepEqual([n.n, n.hi - n.lo + 1], [PER_NODE, PER_NODE], `${n.node}: every seq once, no gap`)
    assert.equal(kills.length, KILLS)
  } finally {
    await w.stop()
  }
})
