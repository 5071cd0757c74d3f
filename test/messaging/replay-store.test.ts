/** The durable replay guard: window rule, survival across restarts (journal and snapshot), a torn journal line. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs, { appendFileSync, existsSync, writeFileSync } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { openReplayStore } from '../../messaging/replay-store.js'
import { makeTempDir, repoPath } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-replay-')
after(() => tmp.cleanup())
let n = 0
const fresh = (): string => join(tmp.dir, `r${n++}`)

describe('durable replay guard', () => {
  it('accepts fresh numbers once, out of order within the window, and refuses older ones', async () => {
    const g = openReplayStore(fresh(), { window: 64 })
    assert.equal(g.check('a.example', 10), true)
    assert.equal(g.check('a.example', 10), false)
    assert.equal(g.check('a.example', 12), true)
    assert.equal(g.check('a.example', 11), true, 'late but within the window')
    assert.equal(g.check('a.example', 11), false)
    assert.equal(g.check('b.example', 10), true, 'senders are separate')
    assert.equal(g.check('a.example', 200), true)
    assert.equal(g.check('a.example', 130), false, 'too far behind')
    assert.equal(g.check('a.example', -1), false)
    assert.equal(g.check('a.example', 1.5), false)
    await g.close()
  })

  it('remembers across a clean restart (snapshot) and after kill -9 (journal)', async () => {
    const dir = fresh()
    const g = openReplayStore(dir)
    for (let s = 1; s <= 100; s++) assert.ok(g.check('dev.example', s))
    await g.close()
    const g2 = openReplayStore(dir)
    assert.equal(g2.check('dev.example', 50), false)
    assert.equal(g2.check('dev.example', 101), true)
    await g2.close()
    // a process that accepts numbers and is killed without close()
    const script = join(tmp.dir, 'guard.mjs')
    writeFileSync(
      script,
      `import { openReplayStore } from ${JSON.stringify(repoPath('build/messaging/replay-store.js'))}
const g = openReplayStore(process.argv[2])
for (let s = 102; s <= 300; s++) g.check('dev.example', s)
process.kill(process.pid, 'SIGKILL')
`,
    )
    spawnSync(process.execPath, [script, dir])
    const g3 = openReplayStore(dir)
    assert.equal(g3.check('dev.example', 250), false, 'a number accepted before kill -9 is still a replay')
    assert.equal(g3.check('dev.example', 301), true)
    await g3.close()
  })

  it('skips a torn last journal line', async () => {
    const dir = fresh()
    const g = openReplayStore(dir)
    g.check('x.example', 5)
    await g.close()
    appendFileSync(join(dir, 'replay.journal'), 'x.example 7\nx.exam')
    const g2 = openReplayStore(dir)
    assert.equal(g2.check('x.example', 7), false)
    assert.equal(g2.check('x.example', 6), true)
    await g2.close()
  })

  it('compacts the journal into the snapshot without forgetting', async () => {
    const dir = fresh()
    const g = openReplayStore(dir, { compactEvery: 100 })
    for (let s = 0; s < 1000; s++) g.check(`s${s % 7}.example`, s)
    const g2 = openReplayStore(dir) // without close: snapshot + journal
    for (let s = 900; s < 1000; s++) assert.equal(g2.check(`s${s % 7}.example`, s), false)
    await g2.close()
    await g.close()
  })

  it('bounds the number of senders', async () => {
    const g = openReplayStore(fresh(), { maxSenders: 10 })
    for (let i = 0; i < 50; i++) g.check(`n${i}.example`, 1)
    assert.equal(g.senders, 10)
    await g.close()
  })

  it('record() is group-committed: seen only once written, one write for many, no synchronous fsync', async () => {
    const dir = fresh()
    const g = openReplayStore(dir, { fsyncMs: 5, compactEvery: 250 })
    const syncCalls: string[] = []
    const saved = { fsyncSync: fs.fsyncSync, fdatasyncSync: fs.fdatasyncSync, writeSync: fs.writeSync }
    fs.fsyncSync = (fd) => {
      syncCalls.push('fsyncSync')
      saved.fsyncSync(fd)
    }
    fs.fdatasyncSync = (fd) => {
      syncCalls.push('fdatasyncSync')
      saved.fdatasyncSync(fd)
    }
    syncBuiltinESMExports()
    try {
      const first = Array.from({ length: 100 }, (_, i) => g.record('dev.example', i + 1))
      assert.equal(g.judge('dev.example', 1), 'unknown', 'not seen before its write returned')
      await Promise.all(first)
      assert.equal(g.judge('dev.example', 1), 'seen')
      assert.equal(g.judge('dev.example', 100), 'seen')
      await g.record('dev.example', 100) // seen already: resolves, no second line
      for (let round = 0; round < 5; round++) {
        await Promise.all(Array.from({ length: 100 }, (_, i) => g.record('dev.example', 101 + round * 100 + i)))
        await new Promise((r) => setTimeout(r, 10)) // let the fdatasync timer and a compaction run
      }
      assert.ok(existsSync(join(dir, 'replay.json')), 'compacted into the snapshot')
    } finally {
      Object.assign(fs, saved)
      syncBuiltinESMExports()
    }
    assert.deepEqual(syncCalls, [], 'no synchronous fsync while recording, syncing and compacting')
    await g.close()
    assert.equal(existsSync(join(dir, 'replay.journal.old')), false, 'a finished compaction leaves no old journal')
    const g2 = openReplayStore(dir)
    assert.equal(g2.check('dev.example', 600), false)
    assert.equal(g2.check('dev.example', 250), false)
    assert.equal(g2.check('dev.example', 601), true)
    await g2.close()
  })

  it('a number whose record() resolved survives kill -9', () => {
    const dir = fresh()
    const script = join(tmp.dir, 'guard-async.mjs')
    writeFileSync(
      script,
      `import { openReplayStore } from ${JSON.stringify(repoPath('build/messaging/replay-store.js'))}
const g = openReplayStore(process.argv[2])
await Promise.all(Array.from({ length: 50 }, (_, i) => g.record('dev.example', i + 1)))
process.kill(process.pid, 'SIGKILL')
`,
    )
    spawnSync(process.execPath, [script, dir])
    const g = openReplayStore(dir)
    for (let s = 1; s <= 50; s++) assert.equal(g.judge('dev.example', s), 'seen')
    assert.equal(g.judge('dev.example', 51), 'fresh')
    return g.close()
  })

  it('a compaction cut short (old journal left behind) is folded in at open', async () => {
    const dir = fresh()
    const g = openReplayStore(dir)
    await g.record('a.example', 1)
    await g.close()
    writeFileSync(join(dir, 'replay.journal.old'), 'a.example 2\na.example 3\n')
    writeFileSync(join(dir, 'replay.journal'), 'a.example 4\n')
    const g2 = openReplayStore(dir)
    for (const s of [1, 2, 3, 4]) assert.equal(g2.judge('a.example', s), 'seen', `seq ${s}`)
    assert.equal(existsSync(join(dir, 'replay.journal.old')), false)
    await g2.close()
  })
})
