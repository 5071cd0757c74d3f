/** The durable replay guard: window rule, survival across restarts (journal and snapshot), a torn journal line. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { appendFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { openReplayStore } from '../../messaging/replay-store.js'
import { makeTempDir, repoPath } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-replay-')
after(() => tmp.cleanup())
let n = 0
const fresh = (): string => join(tmp.dir, `r${n++}`)

describe('durable replay guard', () => {
  it('accepts fresh numbers once, out of order within the window, and refuses older ones', () => {
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
    g.close()
  })

  it('remembers across a clean restart (snapshot) and after kill -9 (journal)', () => {
    const dir = fresh()
    const g = openReplayStore(dir)
    for (let s = 1; s <= 100; s++) assert.ok(g.check('dev.example', s))
    g.close()
    const g2 = openReplayStore(dir)
    assert.equal(g2.check('dev.example', 50), false)
    assert.equal(g2.check('dev.example', 101), true)
    g2.close()
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
    g3.close()
  })

  it('skips a torn last journal line', () => {
    const dir = fresh()
    const g = openReplayStore(dir)
    g.check('x.example', 5)
    g.close()
    appendFileSync(join(dir, 'replay.journal'), 'x.example 7\nx.exam')
    const g2 = openReplayStore(dir)
    assert.equal(g2.check('x.example', 7), false)
    assert.equal(g2.check('x.example', 6), true)
    g2.close()
  })

  it('compacts the journal into the snapshot without forgetting', () => {
    const dir = fresh()
    const g = openReplayStore(dir, { compactEvery: 100 })
    for (let s = 0; s < 1000; s++) g.check(`s${s % 7}.example`, s)
    const g2 = openReplayStore(dir) // without close: snapshot + journal
    for (let s = 900; s < 1000; s++) assert.equal(g2.check(`s${s % 7}.example`, s), false)
    g2.close()
    g.close()
  })

  it('bounds the number of senders', () => {
    const g = openReplayStore(fresh(), { maxSenders: 10 })
    for (let i = 0; i < 50; i++) g.check(`n${i}.example`, 1)
    assert.equal(g.senders, 10)
    g.close()
  })
})
