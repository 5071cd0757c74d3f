/** The in-memory replay window against a simple model (a set of seen numbers and a high-water mark), and its bounds. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createReplayWindow } from '../../../src/message/replay.js'

/** What the window must answer: fresh unless seen, or at/below high - window. */
function model(window: number) {
  const seen = new Set<number>()
  let high = -1
  return (seq: number): boolean => {
    if (seen.has(seq)) return false
    if (high >= 0 && seq <= high - window) return false
    seen.add(seq)
    if (seq > high) high = seq
    return true
  }
}

describe('replay window', () => {
  it('matches the model on random sequences (jumps across word boundaries, reordering, repeats)', () => {
    fc.assert(
      fc.property(fc.constantFrom(32, 64, 96, 1024), fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 400 }), (window, seqs) => {
        const g = createReplayWindow({ window })
        const m = model(window)
        for (const s of seqs) assert.equal(g.check('a', s), m(s), `seq ${s}`)
      }),
      { numRuns: 300, seed: 42 },
    )
  })
  it('keeps senders apart', () => {
    const g = createReplayWindow()
    assert.equal(g.check('a', 5), true)
    assert.equal(g.check('b', 5), true)
    assert.equal(g.check('a', 5), false)
  })
  it('rejects numbers that are not non-negative safe integers', () => {
    const g = createReplayWindow()
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) assert.equal(g.check('a', bad), false)
  })
  it('holds at most maxSenders, forgetting the least recently seen', () => {
    const g = createReplayWindow({ maxSenders: 3 })
    for (const s of ['a', 'b', 'c']) g.check(s, 1)
    g.check('a', 2) // a is now the most recent
    g.check('d', 1) // evicts b
    assert.equal(g.size(), 3)
    assert.equal(g.check('a', 2), false)
    assert.equal(g.check('c', 1), false)
    assert.equal(g.check('b', 1), true) // forgotten, so taken as fresh (the time window still bounds this)
  })
})
