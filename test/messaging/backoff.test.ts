/** Backoff: growth, cap, floor, jitter spread, reset, and the injectable timer. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Backoff, scheduleRetry, type Timers } from '../../messaging/backoff.js'

describe('Backoff', () => {
  it('doubles the ceiling per failure up to the cap (random just below 1 shows the ceiling)', () => {
    const b = new Backoff({ baseMs: 100, capMs: 1000, minMs: 0, random: () => 0.999999 })
    const got = Array.from({ length: 7 }, () => b.next())
    assert.deepEqual(got, [99, 199, 399, 799, 999, 999, 999])
    assert.equal(b.attempt, 7)
  })

  it('never goes below the floor, even with random 0', () => {
    const b = new Backoff({ baseMs: 100, capMs: 1000, minMs: 50, random: () => 0 })
    assert.deepEqual([b.next(), b.next(), b.next()], [50, 50, 50])
  })

  it('reset starts over', () => {
    const b = new Backoff({ baseMs: 100, capMs: 10_000, minMs: 0, random: () => 0.5 })
    b.next()
    b.next()
    b.next()
    b.reset()
    assert.equal(b.attempt, 0)
    assert.equal(b.next(), 50)
  })

  it('spreads a fleet: 1000 devices at attempt 5 get delays spread over the whole window', () => {
    const delays = Array.from({ length: 1000 }, () => {
      const b = new Backoff({ baseMs: 500, capMs: 60_000, minMs: 0 })
      for (let i = 0; i < 5; i++) b.next()
      return b.next()
    })
    const ceiling = 500 * 2 ** 5
    assert.ok(delays.every((d) => d >= 0 && d < ceiling))
    const buckets = new Array(4).fill(0) as number[]
    for (const d of delays) buckets[Math.floor((d / ceiling) * 4)]! += 1
    for (const n of buckets) assert.ok(n > 150, `uneven spread: ${buckets.join(',')}`)
  })

  it('survives thousands of failures without overflowing', () => {
    const b = new Backoff({ baseMs: 500, capMs: 60_000, minMs: 0, random: () => 0.999 })
    let last = 0
    for (let i = 0; i < 5000; i++) last = b.next()
    assert.equal(last, 59_940)
  })

  it('rejects nonsense options', () => {
    assert.throws(() => new Backoff({ baseMs: 0 }), RangeError)
    assert.throws(() => new Backoff({ baseMs: 1000, capMs: 10 }), RangeError)
  })

  it('scheduleRetry uses the injected timer and can be cancelled', () => {
    const calls: number[] = []
    let cleared: unknown
    const timers: Timers = {
      setTimeout: (_fn, ms) => {
        calls.push(ms)
        return 42
      },
      clearTimeout: (h) => {
        cleared = h
      },
    }
    const b = new Backoff({ baseMs: 100, capMs: 1000, minMs: 0, random: () => 0.5 })
    const cancel = scheduleRetry(b, () => {}, timers)
    scheduleRetry(b, () => {}, timers)
    assert.deepEqual(calls, [50, 100])
    cancel()
    assert.equal(cleared, 42)
  })
})
