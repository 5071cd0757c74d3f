/** The durable digest guard for unbound messages: refuses the same bytes within the window, across restarts, bounded, torn lines skipped. */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { appendFileSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { openDigestStore } from '../../messaging/digest-store.js'
import { makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-digests-')
after(() => tmp.cleanup())
let n = 0
const fresh = (): string => join(tmp.dir, `d${n++}`)
const d = (s: string): string => createHash('sha256').update(s).digest('hex')
const now = Date.now()

describe('durable digest guard', () => {
  it('refuses a digest seen within the window, also after a restart; accepts it once the window has passed', () => {
    const dir = fresh()
    const g = openDigestStore(dir, { windowMs: 60_000 })
    assert.equal(g.check(d('a'), now), true)
    assert.equal(g.check(d('a'), now + 1), false)
    assert.equal(g.check('not hex', now), false)
    g.close()
    assert.equal(statSync(join(dir, 'unbound.digests')).mode & 0o777, 0o600)
    const again = openDigestStore(dir, { windowMs: 60_000 })
    assert.equal(again.size, 1)
    assert.equal(again.check(d('a'), now + 2), false, 'remembered across the restart')
    assert.equal(again.check(d('a'), now + 60_000), true, 'after the window')
    again.close()
  })

  it('an entry written without close() (a kill) is still refused after reopening; a torn last line is skipped', () => {
    const dir = fresh()
    const g = openDigestStore(dir)
    assert.equal(g.check(d('killed'), now), true)
    // no close(): the process "dies" here
    appendFileSync(join(dir, 'unbound.digests'), `${d('torn').slice(0, 20)}`)
    const reopened = openDigestStore(dir)
    assert.equal(reopened.check(d('killed'), now + 5), false)
    assert.equal(reopened.check(d('torn'), now + 5), true)
    reopened.close()
    g.close()
  })

  it('holds at most maxEntries (the oldest go first) and keeps its file within twice that', () => {
    const dir = fresh()
    const g = openDigestStore(dir, { maxEntries: 1000 })
    for (let i = 0; i < 5000; i++) assert.equal(g.check(d(String(i)), now + i), true)
    assert.equal(g.size, 1000)
    assert.equal(g.check(d('4999'), now + 5000), false)
    assert.equal(g.check(d('0'), now + 5000), true, 'forgotten at the cap')
    const lines = readFileSync(join(dir, 'unbound.digests'), 'latin1').split('\n').length - 1
    assert.ok(lines <= 2 * 1024 + 1, `${lines} lines`)
    g.close()
    const reopened = openDigestStore(dir, { maxEntries: 1000 })
    assert.equal(reopened.size, 1000)
    reopened.close()
  })
})
