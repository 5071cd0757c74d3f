/** The contract every reading store must pass (SQLite now, PostgreSQL later): exactly-once commits, queries, summaries. */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import type { IncomingMessage, NodeSummary, ReadingStore } from '../../gateway/store/types.js'

export interface StoreFactory {
  name: string
  /** A fresh, empty, opened store. */
  create(): Promise<ReadingStore>
  /** Closes `store` and opens the same database again (running migrations again); undefined if not persistent. */
  reopen?: (store: ReadingStore) => Promise<ReadingStore>
}

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0)
const sha = (s: string): string => createHash('sha256').update(s).digest('hex')

/** A bound reading from `node` with sequence `seq`, issued at T0 + seq seconds unless `time` says otherwise. */
export function reading(node: string, seq: number, over: Partial<IncomingMessage> = {}): IncomingMessage {
  const time = over.time ?? T0 + seq * 1000
  return {
    node,
    seq,
    digest: sha(`${node}/${seq}/${time}`),
    time,
    receivedAt: time + 150,
    auth: 'dnssec',
    profile: 'compact',
    bound: true,
    sensor: 'pms5003-0',
    model: 'PMS5003',
    values: { pm25: seq, pm10: seq * 2 },
    ...over,
  }
}

/** An unbound (legacy) message: no seq, deduplicated by the digest of its bytes (`bytes` stands for them). */
export function legacy(node: string, bytes: string, over: Partial<IncomingMessage> = {}): IncomingMessage {
  return reading(node, 0, {
    seq: null,
    bound: false,
    profile: 'valimail',
    auth: 'pkix-cd',
    digest: sha(bytes),
    sensor: null,
    model: null,
    ...over,
  })
}

export function status(node: string, seq: number, body: Record<string, unknown>, over: Partial<IncomingMessage> = {}): IncomingMessage {
  return reading(node, seq, { sensor: null, model: null, values: {}, status: body, ...over })
}

export function storeSuite(f: StoreFactory): void {
  describe(`store contract: ${f.name}`, () => {
    it('commits a batch and reports each message stored, in order; an empty batch is a no-op', async () => {
      const s = await f.create()
      assert.deepEqual(await s.commit([]), [])
      assert.deepEqual(await s.commit([reading('a.example', 1), reading('a.example', 2), reading('b.example', 1)]), [
        'stored',
        'stored',
        'stored',
      ])
      assert.equal(await s.count(), 3)
      await s.close()
    })

    it('never stores a (node, seq) twice: within a batch, across batches, whatever the digest', async () => {
      const s = await f.create()
      const a1 = reading('a.example', 1)
      assert.deepEqual(await s.commit([a1, reading('a.example', 2), { ...a1 }]), ['stored', 'stored', 'duplicate'])
      // a redelivery, and a replayed seq with other content (a different digest): both refused
      const forged = reading('a.example', 2, { values: { pm25: 999 }, digest: sha('other bytes') })
      assert.deepEqual(await s.commit([reading('a.example', 3), a1, forged]), ['stored', 'duplicate', 'duplicate'])
      // the same seq from another node is another message
      assert.deepEqual(await s.commit([reading('b.example', 1)]), ['stored'])
      assert.equal(await s.count(), 4)
      const rows = await s.readings({ node: 'a.example', from: 0 })
      assert.deepEqual(
        rows.map((r) => [r.seq, r.values.pm25]),
        [
          [1, 1],
          [2, 2],
          [3, 3],
        ],
      )
      await s.close()
    })

    it('deduplicates unbound (legacy) messages by digest, within and across batches', async () => {
      const s = await f.create()
      const m = legacy('old.example', 'sealed-bytes-1', { time: T0, receivedAt: T0 })
      const again = { ...m, time: T0 + 5000, receivedAt: T0 + 5000 } // the same bytes received later
      assert.deepEqual(await s.commit([m, legacy('old.example', 'sealed-bytes-2'), again]), ['stored', 'stored', 'duplicate'])
      assert.deepEqual(await s.commit([again, legacy('old.example', 'sealed-bytes-3')]), ['duplicate', 'stored'])
      const rows = await s.readings({ node: 'old.example', from: 0 })
      assert.equal(rows.length, 3)
      for (const r of rows) {
        assert.equal(r.seq, null)
        assert.equal(r.bound, false)
        assert.equal(r.auth, 'pkix-cd')
      }
      await s.close()
    })

    it('refuses a malformed message before the transaction: nothing of its batch is stored', async () => {
      const s = await f.create()
      const bad = reading('a.example', 2, { values: { pm25: Number.NaN } })
      await assert.rejects(s.commit([reading('a.example', 1), bad]), TypeError)
      await assert.rejects(s.commit([reading('a.example', 3, { seq: null })]), TypeError) // bound without seq
      await assert.rejects(s.commit([reading('a.example', 4, { digest: 'xyz' })]), TypeError)
      assert.equal(await s.count(), 0)
      await s.close()
    })

    it('returns rows as the API shows them: ISO times, booleans, values', async () => {
      const s = await f.create()
      await s.commit([reading('a.example', 7, { auth: 'pkix-cd' })])
      const [row] = await s.readings({})
      assert.deepEqual(row, {
        node: 'a.example',
        seq: 7,
        time: new Date(T0 + 7000).toISOString(),
        receivedAt: new Date(T0 + 7150).toISOString(),
        auth: 'pkix-cd',
        bound: true,
        sensor: 'pms5003-0',
        model: 'PMS5003',
        values: { pm25: 7, pm10: 14 },
      })
      await s.close()
    })

    it('queries by node and range (from inclusive, to exclusive); newest first without a range, ascending with one', async () => {
      const s = await f.create()
      // committed out of time order, two nodes
      await s.commit([5, 1, 4].map((n) => reading('a.example', n)))
      await s.commit([3, 2, 6].map((n) => reading('a.example', n)).concat([reading('b.example', 3)]))
      const seqs = (rows: { seq: number | null }[]) => rows.map((r) => r.seq)
      assert.deepEqual(seqs(await s.readings({ node: 'a.example' })), [6, 5, 4, 3, 2, 1])
      assert.deepEqual(seqs(await s.readings({ node: 'a.example', limit: 2 })), [6, 5])
      assert.deepEqual(seqs(await s.readings({ node: 'a.example', from: T0 + 2000, to: T0 + 5000 })), [2, 3, 4])
      assert.deepEqual(seqs(await s.readings({ node: 'a.example', from: T0 + 2000, limit: 2 })), [2, 3])
      assert.deepEqual(seqs(await s.readings({ node: 'a.example', to: T0 + 3000 })), [1, 2])
      assert.deepEqual(
        (await s.readings({ from: T0 + 3000, to: T0 + 4000 })).map((r) => r.node),
        ['a.example', 'b.example'],
      )
      assert.deepEqual(await s.readings({ node: 'nobody.example' }), [])
      await assert.rejects(s.readings({ limit: 0 }), RangeError)
      await assert.rejects(s.readings({ stepSeconds: -1 }), RangeError)
      await s.close()
    })

    it('averages per step in the store: per node, sensor and key, time = step start, limit counts steps', async () => {
      const s = await f.create()
      const at = (seq: number, sec: number, values: Record<string, number>, sensor = 'pms5003-0') =>
        reading('a.example', seq, { time: T0 + sec * 1000, values, sensor })
      await s.commit([
        at(1, 0, { pm25: 10, pm10: 1 }),
        at(2, 10, { pm25: 20 }),
        at(3, 59, { pm25: 30, pm10: 3 }),
        at(4, 60, { pm25: 40 }),
        at(5, 130, { pm25: 50 }),
        at(6, 5, { co2: 600 }, 'scd41-0'),
        at(7, 20, { co2: 700 }, 'scd41-0'),
      ])
      await s.commit([legacy('a.example', 'x', { time: T0 + 30_000, receivedAt: T0 + 30_000, values: { pm25: 1000 } })])
      const rows = await s.readings({ node: 'a.example', from: T0, to: T0 + 180_000, stepSeconds: 60 })
      const view = rows.map((r) => [r.time, r.sensor, r.values, r.seq, r.bound])
      const t = (sec: number) => new Date(T0 + sec * 1000).toISOString()
      assert.deepEqual(view, [
        [t(0), null, { pm25: 1000 }, null, false],
        [t(0), 'pms5003-0', { pm10: 2, pm25: 20 }, null, true],
        [t(0), 'scd41-0', { co2: 650 }, null, true],
        [t(60), 'pms5003-0', { pm25: 40 }, null, true],
        [t(120), 'pms5003-0', { pm25: 50 }, null, true],
      ])
      // only readings inside the range count, even when the step starts before `from`
      const cut = await s.readings({ node: 'a.example', from: T0 + 10_000, to: T0 + 60_000, stepSeconds: 60 })
      assert.deepEqual(
        cut.map((r) => [r.sensor, r.values]),
        [
          [null, { pm25: 1000 }],
          ['pms5003-0', { pm10: 3, pm25: 25 }],
          ['scd41-0', { co2: 700 }],
        ],
      )
      assert.equal(cut[1]?.time, t(0))
      // newest steps first without a range; limit counts steps (node + sensor + step)
      const newest = await s.readings({ node: 'a.example', stepSeconds: 60, limit: 2 })
      assert.deepEqual(
        newest.map((r) => [r.time, r.values.pm25]),
        [
          [t(120), 50],
          [t(60), 40],
        ],
      )
      await s.close()
    })

    it('summarises nodes: newest values per sensor, newest status, last seen, auth and reading count', async () => {
      const s = await f.create()
      await s.commit([
        reading('a.example', 3, { values: { pm25: 3 } }),
        reading('a.example', 1, { values: { pm25: 1 } }),
        reading('a.example', 2, { sensor: 'scd41-0', model: 'SCD41', values: { co2: 612 } }),
        status('a.example', 4, { health: 'ok', outbox: 0, version: '0.1.0' }),
        reading('b.example', 1, { auth: 'pkix-cd' }),
      ])
      // a late arrival of an older reading does not replace the newest; a newer status does
      await s.commit([
        reading('a.example', 0, { values: { pm25: 0 } }),
        status('a.example', 5, { health: 'degraded', sensors: { 'pms5003-0': 'failed' } }),
      ])
      const nodes = await s.nodes()
      assert.deepEqual(
        nodes.map((n) => n.node),
        ['a.example', 'b.example'],
      )
      const a = nodes[0] as NodeSummary
      assert.equal(a.readings, 4, 'status messages are not readings')
      assert.equal(a.auth, 'dnssec')
      assert.equal(a.bound, true)
      assert.equal(a.lastSeen, new Date(T0 + 5150).toISOString())
      assert.deepEqual(a.latest, {
        'pms5003-0': { model: 'PMS5003', time: new Date(T0 + 3000).toISOString(), values: { pm25: 3 } },
        'scd41-0': { model: 'SCD41', time: new Date(T0 + 2000).toISOString(), values: { co2: 612 } },
      })
      assert.deepEqual(a.status, { health: 'degraded', sensors: { 'pms5003-0': 'failed' } })
      assert.equal(a.statusTime, new Date(T0 + 5000).toISOString())
      const b = nodes[1] as NodeSummary
      assert.equal(b.auth, 'pkix-cd')
      assert.equal(b.status, null)
      assert.equal(b.statusTime, null)
      assert.equal(await s.count(), 5)
      // a redelivered status message is a duplicate, too
      assert.deepEqual(await s.commit([status('a.example', 5, { health: 'degraded' })]), ['duplicate'])
      await s.close()
    })

    if (f.reopen !== undefined) {
      const reopen = f.reopen
      it('keeps everything across a reopen (migrations run again, idempotently), and the replay guards with it', async () => {
        let s = await f.create()
        const m = legacy('old.example', 'bytes')
        await s.commit([reading('a.example', 1), reading('a.example', 2), m, status('a.example', 3, { health: 'ok' })])
        s = await reopen(s)
        s = await reopen(s)
        assert.equal(await s.count(), 3)
        assert.deepEqual(await s.commit([reading('a.example', 2), m, status('a.example', 3, { health: 'ok' }), reading('a.example', 4)]), [
          'duplicate',
          'duplicate',
          'duplicate',
          'stored',
        ])
        assert.deepEqual((await s.nodes()).find((n) => n.node === 'a.example')?.status, { health: 'ok' })
        await s.close()
      })
    }
  })
}
