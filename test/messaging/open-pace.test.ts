/** The receiver's concurrency rule (messaging/open-pace.ts): opens at once from the measured cost of a synchronous open. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MAX_OPENS, MIN_OPENS, OpenPace, TURN_BUDGET_MS } from '../../messaging/open-pace.js'
import { Receiver, type ReceiverSink } from '../../messaging/receiver.js'
import type { OpenedMessage, Opener } from '../../src/message/open.js'

/** A synchronous opener (as with a cached key) that spends at least `busyMs` of CPU per open. */
function syncOpener(busyMs: number): Required<Opener> {
  const openNow = (msg: Uint8Array | string): OpenedMessage => {
    const end = performance.now() + busyMs
    while (performance.now() < end) {}
    const seq = Number(Buffer.from(msg as Uint8Array).toString())
    return { from: 'dev.example', auth: 'dnssec', profile: 'compact', serialization: 'compact', seq }
  }
  return { openNow, open: async (m) => openNow(m) }
}

/** A sink that holds every delivery until released: what is in process stays in process. */
function heldSink(): ReceiverSink & { release(): void } {
  const held: (() => void)[] = []
  return {
    deliver: () => new Promise<void>((r) => held.push(r)),
    release: () => {
      for (const r of held.splice(0)) r()
    },
  }
}

describe('open pace', () => {
  it('floor(budget / mean open), within its bounds; the floor until measured', () => {
    const p = new OpenPace()
    assert.equal(p.limit(), MIN_OPENS)
    p.record(0.3)
    assert.equal(p.limit(), Math.floor(TURN_BUDGET_MS / 0.3))
    const slow = new OpenPace()
    slow.record(1.5)
    assert.equal(slow.limit(), MIN_OPENS)
    const fast = new OpenPace()
    fast.record(0.001)
    assert.equal(fast.limit(), MAX_OPENS)
    // an average: one outlier moves it by a sixteenth of the difference
    p.record(0.3 + 16 * 0.1)
    assert.ok(Math.abs((p.meanMs as number) - 0.4) < 1e-9)
  })

  for (const [busy, expect] of [
    [1, (n: number) => n === MIN_OPENS],
    [0, (n: number) => n > 8],
  ] as const) {
    it(`a receiver without --concurrency takes the measured limit (opens of at least ${busy} ms)`, async () => {
      const sink = heldSink()
      const r = new Receiver({ opener: syncOpener(busy), sink, maxMessageSize: 100, window: 500 })
      // learn: 40 opens, each delivery released as it comes
      for (let i = 0; i < 40; i++) {
        await r.push(Buffer.from(String(i)), () => {})
        await new Promise((res) => setImmediate(res))
        sink.release()
      }
      await new Promise((res) => setImmediate(res))
      sink.release()
      await r.idle()
      // then a burst with every delivery held
      for (let i = 40; i < 200; i++) await r.push(Buffer.from(String(i)), () => {})
      // what is in process with the deliveries held is the limit the last measurement gave
      await new Promise((res) => setImmediate(res))
      const inFlight = r.stats().inFlight
      assert.ok(expect(inFlight), `in process: ${inFlight}`)
      sink.release()
      r.stop()
    })
  }
})
