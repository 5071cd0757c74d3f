/** Group commit against the real SQLite store: batching, acks only after commit, retries without acks, backpressure, kill -9. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Ingest } from '../../gateway/ingest.js'
import { SqliteStore } from '../../gateway/store/sqlite.js'
import type { CommitOutcome, IncomingMessage, ReadingQuery, ReadingStore } from '../../gateway/store/types.js'
import { message } from './ingest-child.js'
import { reading } from './store-suite.js'

const tmp = mkdtempSync(join(tmpdir(), 'daneel-ingest-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
let n = 0
const freshPath = (): string => join(tmp, `db${n++}.db`)

async function openStore(path = freshPath()): Promise<SqliteStore> {
  const s = new SqliteStore(path)
  await s.open()
  return s
}

/** The real store with a hand on its commit: batch sizes seen, an optional gate, injected failures. */
class Spy implements ReadingStore {
  readonly inner: SqliteStore
  batches: number[] = []
  failNext = 0
  failCode = 'SQLITE_FULL'
  gate: Promise<void> | undefined
  constructor(inner: SqliteStore) {
    this.inner = inner
  }
  open = () => this.inner.open()
  async commit(batch: readonly IncomingMessage[]): Promise<CommitOutcome[]> {
    if (this.gate !== undefined) await this.gate
    if (this.failNext > 0) {
      this.failNext--
      throw Object.assign(new Error('database or disk is full'), { code: this.failCode })
    }
    this.batches.push(batch.length)
    return this.inner.commit(batch)
  }
  readings = (q: ReadingQuery) => this.inner.readings(q)
  nodes = () => this.inner.nodes()
  count = () => this.inner.count()
  close = () => this.inner.close()
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {}
  const promise = new Promise<void>((r) => {
    open = r
  })
  return { promise, open }
}

describe('group commit', () => {
  it('commits in batches of at most batchSize and acks each message once, in order, with its outcome', async () => {
    const spy = new Spy(await openStore())
    const ingest = new Ingest({ store: spy, batchSize: 4, maxDelayMs: 1000 })
    const acks: string[] = []
    const msgs = [1, 2, 3, 4, 5, 2, 6, 7, 8, 9].map((s) => reading('a.example', s))
    for (const [i, m] of msgs.entries()) ingest.push(m, (o) => acks.push(`${i}:${o}`))
    await ingest.flush()
    assert.deepEqual(spy.batches, [4, 4, 2])
    assert.deepEqual(acks, [
      '0:stored',
      '1:stored',
      '2:stored',
      '3:stored',
      '4:stored',
      '5:duplicate',
      '6:stored',
      '7:stored',
      '8:stored',
      '9:stored',
    ])
    assert.equal(ingest.metrics.stored.get(), 9)
    assert.equal(ingest.metrics.duplicates.get(), 1)
    assert.equal(ingest.metrics.commitSeconds.count, 3)
    assert.equal(ingest.metrics.queueDepth.get(), 0)
    assert.equal(ingest.metrics.lastSeen.get('a.example'), Math.floor((msgs[9] as IncomingMessage).receivedAt / 1000))
    assert.equal(await spy.count(), 9)
    await ingest.close()
    await spy.close()
  })

  it('commits a partial batch after maxDelayMs without a flush', async () => {
    const store = await openStore()
    const ingest = new Ingest({ store, batchSize: 128, maxDelayMs: 2 })
    const outcome = await new Promise<CommitOutcome>((resolve) => ingest.push(reading('a.example', 1), resolve))
    assert.equal(outcome, 'stored')
    assert.equal(await store.count(), 1)
    await ingest.close()
    await store.close()
  })

  it('acks nothing before the commit returns', async () => {
    const spy = new Spy(await openStore())
    const g = gate()
    spy.gate = g.promise
    const ingest = new Ingest({ store: spy, batchSize: 2, maxDelayMs: 1 })
    const acks: CommitOutcome[] = []
    ingest.push(reading('a.example', 1), (o) => acks.push(o))
    ingest.push(reading('a.example', 2), (o) => acks.push(o))
    await new Promise((r) => setTimeout(r, 20))
    assert.deepEqual(acks, [])
    assert.equal(ingest.depth, 2)
    g.open()
    await ingest.flush()
    assert.deepEqual(acks, ['stored', 'stored'])
    await ingest.close()
    await spy.close()
  })

  it('retries a failed commit with backoff, never acking meanwhile; logs the streak once and its recovery once', async () => {
    const spy = new Spy(await openStore())
    spy.failNext = 5
    const log: string[] = []
    const ingest = new Ingest({ store: spy, batchSize: 8, maxDelayMs: 1, retryBaseMs: 1, retryMaxMs: 4, log: (l) => log.push(l) })
    const acks: CommitOutcome[] = []
    for (let s = 1; s <= 3; s++) ingest.push(reading('a.example', s), (o) => acks.push(o))
    await new Promise((r) => setTimeout(r, 5))
    assert.ok(ingest.failing >= 1)
    assert.deepEqual(acks, [], 'no ack while the store fails')
    await ingest.flush()
    assert.deepEqual(acks, ['stored', 'stored', 'stored'])
    assert.equal(ingest.metrics.commitErrors.get(), 5)
    assert.equal(ingest.failing, 0)
    assert.equal(log.length, 2, log.join('\n'))
    assert.match(log[0] as string, /SQLITE_FULL: database or disk is full.*3 messages held unacknowledged/)
    assert.match(log[1] as string, /recovered after 5 failed attempts/)
    assert.equal(await spy.count(), 3)
    await ingest.close()
    await spy.close()
  })

  it('a database that is really full (SQLITE_FULL from SQLite itself) holds acks until there is room, losing nothing', async () => {
    const store = await openStore()
    const log: string[] = []
    const ingest = new Ingest({ store, batchSize: 32, maxDelayMs: 1, retryBaseMs: 1, retryMaxMs: 5, log: (l) => log.push(l) })
    let acked = 0
    // fill to the cap: a small database, then a stream that outgrows it
    store.setMaxSizeBytes(96 * 1024)
    for (let s = 1; s <= 2000; s++) ingest.push(reading('a.example', s, { values: { pm25: s, pad: s * 1e-7 } }), () => acked++)
    for (let t = 0; t < 200 && ingest.failing < 3; t++) await new Promise((r) => setTimeout(r, 5))
    assert.ok(ingest.failing >= 3, 'the store reports full')
    assert.match(log[0] as string, /SQLITE_FULL/)
    const before = acked
    assert.equal(await store.count(), before, 'every acked message is stored, no more')
    assert.ok(before < 2000)
    store.setMaxSizeBytes(64 * 1024 * 1024) // room again
    await ingest.flush()
    assert.equal(acked, 2000)
    assert.equal(await store.count(), 2000)
    assert.match(log.at(-1) as string, /recovered/)
    await ingest.close()
    await store.close()
  })

  it('rate-limits reminder lines during a long streak', async () => {
    const spy = new Spy(await openStore())
    spy.failNext = 50
    spy.failCode = 'SQLITE_BUSY'
    const log: string[] = []
    let now = 0
    const ingest = new Ingest({
      store: spy,
      maxDelayMs: 1,
      retryBaseMs: 0.1,
      retryMaxMs: 0.2,
      logEveryMs: 10_000,
      now: () => (now += 1000),
      log: (l) => log.push(l),
    })
    ingest.push(reading('a.example', 1), () => {})
    await ingest.flush()
    // 50 failures, the fake clock advancing 1 s per reading of it (twice per attempt): about one reminder per 5 attempts
    const reminders = log.filter((l) => l.includes('still failing')).length
    assert.ok(reminders >= 5 && reminders <= 15, `${reminders} reminders`)
    assert.equal(log.filter((l) => l.includes('commit failed')).length, 1)
    await ingest.close()
    await spy.close()
  })

  it('says stop at highWater and drains at half of it; a message pushed anyway is still stored', async () => {
    const spy = new Spy(await openStore())
    const g = gate()
    spy.gate = g.promise
    const ingest = new Ingest({ store: spy, batchSize: 4, maxDelayMs: 1, highWater: 8 })
    let drains = 0
    ingest.onDrain(() => drains++)
    const answers: boolean[] = []
    for (let s = 1; s <= 9; s++) answers.push(ingest.push(reading('a.example', s), () => {}))
    assert.deepEqual(answers, [true, true, true, true, true, true, true, false, false])
    const resumed = ingest.drained()
    g.open()
    await resumed
    assert.equal(drains, 1)
    assert.ok(ingest.depth <= 4)
    await ingest.flush()
    assert.equal(await spy.count(), 9)
    assert.equal(await ingest.drained(), undefined)
    await ingest.close()
    await spy.close()
  })

  it('an ack callback that throws is logged and does not stop the other acks', async () => {
    const store = await openStore()
    const log: string[] = []
    const ingest = new Ingest({ store, batchSize: 2, log: (l) => log.push(l) })
    const acks: CommitOutcome[] = []
    ingest.push(reading('a.example', 1), () => {
      throw new Error('broker gone')
    })
    ingest.push(reading('a.example', 2), (o) => acks.push(o))
    await ingest.flush()
    assert.deepEqual(acks, ['stored'])
    assert.match(log.join('\n'), /ack callback threw: broker gone/)
    await ingest.close()
    await store.close()
  })

  it('refuses a malformed message at push with a TypeError, queueing nothing', async () => {
    const store = await openStore()
    const ingest = new Ingest({ store })
    assert.throws(() => ingest.push(reading('a.example', 1, { values: { pm25: Number.POSITIVE_INFINITY } }), () => {}), TypeError)
    assert.throws(() => ingest.push(reading('a.example', 1, { auth: 'none' as 'dnssec' }), () => {}), TypeError)
    assert.equal(ingest.depth, 0)
    await ingest.close()
    await store.close()
  })

  it('close() during a failure streak returns the unacknowledged count and acks none of them', async () => {
    const spy = new Spy(await openStore())
    spy.failNext = 1_000_000
    const ingest = new Ingest({ store: spy, batchSize: 2, maxDelayMs: 1, retryBaseMs: 1000, log: () => {} })
    const acks: CommitOutcome[] = []
    for (let s = 1; s <= 5; s++) ingest.push(reading('a.example', s), (o) => acks.push(o))
    await new Promise((r) => setTimeout(r, 10))
    assert.equal(await ingest.close(), 5)
    assert.deepEqual(acks, [])
    assert.throws(() => ingest.push(reading('a.example', 6), () => {}), /closed/)
    await spy.close()
  })
})

describe('group commit survives kill -9', () => {
  const child = join(dirname(fileURLToPath(import.meta.url)), 'ingest-child.js')
  const TOTAL = 3000
  const NODES = 20

  /** Runs the child over messages FIRST..TOTAL; kills it with SIGKILL after `killAfter` acks (never, if undefined). */
  function run(path: string, first: number, killAfter?: number): Promise<{ acked: Map<number, string>; killed: boolean }> {
    return new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [child, path, String(first), String(TOTAL), String(NODES)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      const acked = new Map<number, string>()
      let buf = ''
      p.stdout.setEncoding('utf8')
      p.stdout.on('data', (chunk: string) => {
        buf += chunk
        const lines = buf.split('\n')
        buf = lines.pop() as string
        for (const line of lines) {
          if (line === 'done') continue
          const [i, outcome] = line.split(' ')
          acked.set(Number(i), outcome as string)
          if (killAfter !== undefined && acked.size === killAfter) p.kill('SIGKILL')
        }
      })
      p.on('error', reject)
      p.on('close', (code, signal) => resolve({ acked, killed: signal === 'SIGKILL' || code !== 0 }))
    })
  }

  async function rows(path: string): Promise<number[]> {
    const s = await openStore(path)
    const all = await s.readings({})
    await s.close()
    return all.map((r) => r.values.i as number)
  }

  it('keeps every acknowledged message and stores none twice, over three kills and redelivery from the start', async (t) => {
    const path = freshPath()
    const everAcked = new Set<number>()
    // Each run redelivers from a point at or before the previous kill, as a broker would (unacked and some acked).
    let first = 0
    for (const killAfter of [
      150 + Math.floor(Math.random() * 600),
      100 + Math.floor(Math.random() * 600),
      100 + Math.floor(Math.random() * 600),
    ]) {
      const { acked, killed } = await run(path, first, killAfter)
      assert.ok(killed, 'the child was killed mid-stream')
      for (const i of acked.keys()) everAcked.add(i)
      const stored = await rows(path)
      const seen = new Set(stored)
      assert.equal(seen.size, stored.length, 'no message stored twice')
      for (const i of everAcked) assert.ok(seen.has(i), `acked message ${i} is in the store`)
      first = Math.max(0, Math.max(first, ...acked.keys()) - 200)
    }
    const last = await run(path, 0)
    assert.equal(last.killed, false)
    const stored = await rows(path)
    assert.equal(stored.length, TOTAL)
    assert.equal(new Set(stored).size, TOTAL)
    // the last run redelivered everything: what earlier runs stored comes back as duplicates
    const dups = [...last.acked.values()].filter((o) => o === 'duplicate').length
    assert.ok(dups >= everAcked.size, `${dups} duplicates >= ${everAcked.size} acked before`)
    assert.equal(dups + [...last.acked.values()].filter((o) => o === 'stored').length, TOTAL)
    assert.deepEqual(message(3, NODES).seq, null, 'the stream includes unbound messages')
    t.diagnostic(`kill -9: ${TOTAL} messages, ${everAcked.size} acked before the kills, ${stored.length} rows, none twice`)
  })
})
