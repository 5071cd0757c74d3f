/** Opens on worker threads: the gateway with `--open-workers 2`, a SIGKILL mid-stream, still every reading exactly once; the pool's refusals keep their codes. */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { defaultOpenWorkers, startOpenWorkers } from '../../gateway/open-workers.js'
import { resolveSettings } from '../../settings/settings.js'
import { getProvider } from '../../src/crypto/get-provider.js'
import { DaneelError, isDaneelError, isTemporary } from '../../src/errors.js'
import { silentLogger } from '../../src/log.js'
import { startFleet, startGatewayLab, startGatewayProcess } from '../../testkit/gateway-lab.js'
import { identity, NOW, READING, RECIPIENT, SENDER, sealerFor } from '../../testkit/message-fixtures.js'

const NODES = 4
const PER_NODE = 150

describe('open workers', () => {
  it('default: none on 1-2 cores, cores - 1 above', () => {
    assert.deepEqual([1, 2, 3, 4, 8].map(defaultOpenWorkers), [0, 0, 2, 3, 7])
  })

  it('a refusal crosses the thread with its code (the source counts and acknowledges by code, as on the main thread)', async () => {
    const to = identity(RECIPIENT, 'p256')
    const from = identity(SENDER, 'p256')
    // no DNS is reached: every message here is refused before any lookup
    const settings = resolveSettings({}, { DANE_ID: RECIPIENT, TRUSTED_DOMAINS: 'nothing.test', DNS_SERVER: '127.0.0.1' })
    const pool = startOpenWorkers({
      workers: 2,
      settings,
      me: RECIPIENT,
      recipientKey: to.privateKey,
      recipientKeys: [],
      maxAgeMs: 60_000,
      log: silentLogger,
    })
    try {
      const code = (p: Promise<unknown>) =>
        p.then(
          () => 'opened',
          (err: unknown) => (isDaneelError(err) ? err.code : `not a DaneelError: ${String(err)}`),
        )
      const sealed = sealerFor(getProvider('node'), from, to).seal(READING, { now: NOW, seq: 1 })
      assert.deepEqual(
        await Promise.all([code(pool.open(sealed)), code(pool.open('not a JWE')), code(pool.open(new Uint8Array(20_000)))]),
        ['ERR_SENDER_UNTRUSTED', 'ERR_JWE_INVALID', 'ERR_MESSAGE_TOO_LARGE'],
      )
      assert.equal(pool.inFlight, 0)
    } finally {
      await pool.close()
    }
  })

  it('a worker that dies fails its messages as ERR_INTERNAL (temporary: retried, never acknowledged) and is replaced', async () => {
    const to = identity(RECIPIENT, 'p256')
    const from = identity(SENDER, 'p256')
    // a trusted sender whose lookup goes to a black hole (TEST-NET-1): the open waits in the worker
    const settings = resolveSettings({}, { DANE_ID: RECIPIENT, TRUSTED_DOMAINS: 'example.com', DNS_SERVER: '192.0.2.1' })
    const pool = startOpenWorkers({
      workers: 2,
      settings,
      me: RECIPIENT,
      recipientKey: to.privateKey,
      recipientKeys: [],
      maxAgeMs: 60_000,
      log: silentLogger,
    })
    try {
      const sealer = sealerFor(getProvider('node'), from, to)
      const waiting = [pool.open(sealer.seal(READING, { now: NOW, seq: 1 })), pool.open(sealer.seal(READING, { now: NOW, seq: 2 }))]
      const outcomes = waiting.map((p) =>
        p.then(
          () => 'opened',
          (err: unknown) => (isDaneelError(err) ? err.code : String(err)),
        ),
      )
      await new Promise((r) => setTimeout(r, 300))
      assert.equal(pool.inFlight, 2, 'one message waiting in each worker')
      const dead = pool.threads[0]
      await dead?.terminate()
      assert.equal(await Promise.race([outcomes[0], outcomes[1]]), 'ERR_INTERNAL')
      assert.equal(isTemporary(new DaneelError('ERR_INTERNAL', 'x')), true)
      // the other worker still answers, and a new one takes the dead one's place
      await assert.rejects(pool.open('not a JWE'), { code: 'ERR_JWE_INVALID' })
      const end = Date.now() + 10_000
      while (pool.threads[0] === dead && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
      assert.notEqual(pool.threads[0], dead)
      await Promise.all([1, 2, 3, 4].map(() => assert.rejects(pool.open('not a JWE'), { code: 'ERR_JWE_INVALID' })))
    } finally {
      await pool.close()
    }
  })

  it('gateway --open-workers 2: 600 readings, a SIGKILL mid-stream, every reading stored exactly once', { timeout: 300_000 }, async () => {
    const w = await startGatewayLab('daneel-open-workers-', NODES)
    try {
      const dbPath = join(w.dir, 'gw-state', 'readings.db')
      let gw = await startGatewayProcess(w, ['--open-workers', '2'])
      await gw.ready()
      assert.match(gw.stderr(), /opening on worker threads.*"workers":2/)
      const count = (): number => {
        try {
          const db = new Database(dbPath, { readonly: true, fileMustExist: true })
          try {
            return (db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n
          } finally {
            db.close()
          }
        } catch {
          return 0
        }
      }
      const fleet = startFleet(w, PER_NODE, 30)
      const end0 = Date.now() + 120_000
      while (count() < 150 && Date.now() < end0) await new Promise((r) => setTimeout(r, 10))
      gw.proc.kill('SIGKILL')
      await gw.exited()
      const atKill = count()
      gw = await startGatewayProcess(w, ['--open-workers', '2'], { httpPort: gw.httpPort })
      await gw.ready()
      assert.equal(await fleet.done, 0, fleet.out())
      const end = Date.now() + 120_000
      while (count() < NODES * PER_NODE && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
      await new Promise((r) => setTimeout(r, 500)) // a redelivery still in flight must count as a duplicate
      const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text()
      gw.proc.kill('SIGTERM')
      assert.equal(await gw.exited(), 0, gw.stderr())
      const db = new Database(dbPath, { readonly: true })
      const total = (db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n
      const perNode = db.prepare('SELECT node, count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM readings GROUP BY node').all() as {
        node: string
        n: number
        lo: number
        hi: number
      }[]
      db.close()
      process.stdout.write(`# open workers: killed at ${atKill} rows; ${total} rows at the end\n`)
      assert.ok(atKill < NODES * PER_NODE, 'the kill came mid-stream')
      assert.equal(total, NODES * PER_NODE)
      assert.equal(perNode.length, NODES)
      for (const n of perNode) assert.deepEqual([n.n, n.hi - n.lo + 1], [PER_NODE, PER_NODE], `${n.node}: every seq once, no gap`)
      // the counters are the main thread's, as without workers: nothing refused, everything stored counted
      assert.match(metrics, /daneel_readings_stored_total \d+/)
      assert.doesNotMatch(metrics, /daneel_messages_rejected_total\{[^}]*\} [1-9]/)
    } finally {
      await w.stop()
    }
  })
})
