/** Receiver orchestration with a scripted opener (the real opener runs in test/integration/messaging*.test.ts). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { jsonLineSink } from '../../messaging/line-sink.js'
import { directoryResolver, Receiver } from '../../messaging/receiver.js'
import type { PeerDirectory } from '../../src/dane/discover.js'
import { DaneelError } from '../../src/errors.js'
import type { OpenedMessage, Opener } from '../../src/message/open.js'

/**
 * A test double for src/message/open.ts: 'ok:N' opens (seq N), 'bad:CODE' rejects with CODE, 'boom' throws a
 * TypeError (an internal fault) `boomTimes` times and then opens as seq 99, 'tmp:CODE#N' fails with CODE while
 * `fault.on` (then opens as N); '#N' makes otherwise equal inputs distinct messages.
 */
function scriptedOpener(delayMs = 0, boomTimes = 2): Opener & { concurrent: number; peak: number; fault: { on: boolean } } {
  let booms = 0
  const o = {
    concurrent: 0,
    peak: 0,
    fault: { on: false },
    async open(msg: Uint8Array | string): Promise<OpenedMessage> {
      o.concurrent++
      o.peak = Math.max(o.peak, o.concurrent)
      try {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
        const text = Buffer.from(msg as Uint8Array).toString()
        if (text === 'boom' && booms++ < boomTimes) throw new TypeError('internal failure')
        const [head, tag] = text.split('#')
        if (text.startsWith('bad:')) throw new DaneelError((head as string).slice(4) as 'ERR_REPLAY', 'rejected')
        if (text.startsWith('tmp:') && o.fault.on) throw new DaneelError((head as string).slice(4) as 'ERR_DNS_TIMEOUT', 'temporary')
        const n = text === 'boom' ? 99 : Number(tag ?? text.slice(3))
        return { from: 'dev.example', claims: { n }, auth: 'dnssec', profile: 'compact', serialization: 'compact', seq: n }
      } finally {
        o.concurrent--
      }
    },
  }
  return o
}

/** stdout as the sink sees it: the callback fires at once, or is held while `hold` (a slow or stuck reader). */
class Out {
  lines: string[] = []
  hold = false
  failWith: string | undefined
  #held: (() => void)[] = []
  write(line: string, cb: (err?: Error | null) => void): boolean {
    if (this.failWith !== undefined) {
      const err = Object.assign(new Error(this.failWith), { code: this.failWith })
      setImmediate(() => cb(err))
      return false
    }
    this.lines.push(line)
    if (this.hold) this.#held.push(() => cb())
    else setImmediate(() => cb())
    return true
  }
  release(): void {
    this.hold = false
    for (const f of this.#held.splice(0)) f()
  }
}

const fastRetry = { baseMs: 1, capMs: 5, minMs: 1 }

describe('Receiver', () => {
  it('prints one JSON line per opened message and counts rejections by code; bad messages never stop the rest', async () => {
    // New rule (ack after durable): an internal error is temporary, retried until it opens; it used to be counted
    // as rejected (ERR_INTERNAL) and acknowledged.
    const out = new Out()
    const r = new Receiver({
      opener: scriptedOpener(),
      sink: jsonLineSink(out),
      maxMessageSize: 100,
      backoff: fastRetry,
      now: () => Date.UTC(2026, 10, 25),
    })
    const inputs = ['ok:1', 'bad:ERR_REPLAY', 'boom', 'ok:2', 'x'.repeat(101), 'bad:ERR_SENDER_UNTRUSTED', 'ok:3\n', 'bad:ERR_REPLAY#2']
    const acked: number[] = []
    inputs.forEach((m, i) => void r.push(Buffer.from(m), () => acked.push(i)))
    await r.idle()
    assert.deepEqual(out.lines.map((l) => JSON.parse(l).claims.n).sort(), [1, 2, 3, 99])
    assert.deepEqual(JSON.parse(out.lines[0] as string), {
      from: 'dev.example',
      claims: { n: 1 },
      auth: 'dnssec',
      receivedAt: '2026-11-25T00:00:00.000Z',
    })
    const s = r.stats()
    assert.equal(s.received, 8)
    assert.equal(s.opened, 4)
    assert.deepEqual(s.rejected, { ERR_REPLAY: 2, ERR_MESSAGE_TOO_LARGE: 1, ERR_SENDER_UNTRUSTED: 1 })
    assert.deepEqual(s.retried, { ERR_INTERNAL: 2 })
    assert.deepEqual(acked, [0, 1, 2, 3, 4, 5, 6, 7], 'every message acknowledged, in arrival order')
  })

  it('bounds concurrent opens and holds the flow while the window of unacknowledged messages is full (backpressure)', async () => {
    const opener = scriptedOpener(5)
    const r = new Receiver({ opener, sink: jsonLineSink(new Out()), maxMessageSize: 100, concurrency: 3, window: 10 })
    let acked = 0
    let taken = 0
    let maxUnacked = 0
    // like attachReceiver: the next publication is read only once push() says there is room
    for (let i = 0; i < 50; i++) {
      taken++
      maxUnacked = Math.max(maxUnacked, taken - acked)
      await r.push(Buffer.from(`ok:${i}`), () => acked++)
    }
    await r.idle()
    assert.ok(r.stats().held > 0, 'the window filled and the flow was held')
    assert.ok(maxUnacked <= 10, `unacknowledged reached ${maxUnacked}`)
    assert.equal(opener.peak, 3)
    assert.equal(r.stats().opened, 50)
    assert.equal(acked, 50)
  })

  it('acknowledges only after the write callback, in arrival order, and nothing while the output is stuck', async () => {
    const out = new Out()
    out.hold = true
    const r = new Receiver({ opener: scriptedOpener(), sink: jsonLineSink(out), maxMessageSize: 100, concurrency: 4 })
    const acked: number[] = []
    for (let i = 0; i < 20; i++) void r.push(Buffer.from(`ok:${i}`), () => acked.push(i))
    await new Promise((res) => setTimeout(res, 20))
    assert.ok(out.lines.length >= 1, 'lines written')
    assert.deepEqual(acked, [], 'no write callback yet: nothing acknowledged')
    out.release()
    await r.idle()
    assert.equal(out.lines.length, 20)
    assert.deepEqual(acked, [...Array(20).keys()])
  })

  it('a temporary fault holds every acknowledgement and the flow; all are delivered once it clears', async () => {
    const opener = scriptedOpener()
    opener.fault.on = true
    const out = new Out()
    const r = new Receiver({ opener, sink: jsonLineSink(out), maxMessageSize: 100, window: 8, backoff: fastRetry })
    let acked = 0
    let taken = 0
    const feeding = (async () => {
      for (let i = 0; i < 30; i++) {
        await r.push(Buffer.from(`tmp:ERR_DNS_TIMEOUT#${i}`), () => acked++)
        taken++
      }
    })()
    await new Promise((res) => setTimeout(res, 50))
    assert.equal(acked, 0)
    assert.equal(taken, 7, 'the flow stopped at the window (8 taken, the 8th push not resolved)')
    assert.ok((r.stats().retried.ERR_DNS_TIMEOUT ?? 0) > 8, 'retried with backoff')
    opener.fault.on = false
    await feeding
    await r.idle()
    assert.equal(acked, 30)
    assert.equal(out.lines.length, 30, 'none lost, none twice')
  })

  it('records the replay only after the output, retries a failed record (ENOSPC) without writing again, and never acks meanwhile', async () => {
    const out = new Out()
    const recorded: number[] = []
    let full = true
    const replay = {
      record(_from: string, seq: number) {
        if (full) throw new DaneelError('ERR_IO', 'cannot journal the replay state: ENOSPC')
        recorded.push(seq)
      },
    }
    const r = new Receiver({ opener: scriptedOpener(), sink: jsonLineSink(out), replay, maxMessageSize: 100, backoff: fastRetry })
    let acked = 0
    for (let i = 0; i < 5; i++) void r.push(Buffer.from(`ok:${i}`), () => acked++)
    await new Promise((res) => setTimeout(res, 30))
    assert.equal(out.lines.length, 5)
    assert.equal(acked, 0)
    assert.deepEqual(recorded, [])
    full = false
    await r.idle()
    assert.equal(acked, 5)
    assert.equal(out.lines.length, 5, 'written once')
    assert.deepEqual(recorded.sort(), [0, 1, 2, 3, 4])
  })

  it('a failed output records nothing; EPIPE calls onClosed once and stop() leaves the rest unacknowledged', async () => {
    const out = new Out()
    out.failWith = 'EPIPE'
    const recorded: number[] = []
    let closedCalls = 0
    const r = new Receiver({
      opener: scriptedOpener(),
      sink: jsonLineSink(out, () => {
        closedCalls++
        r.stop()
      }),
      replay: {
        record: (_f, seq) => {
          recorded.push(seq)
        },
      },
      maxMessageSize: 100,
      backoff: fastRetry,
    })
    let acked = 0
    for (let i = 0; i < 5; i++) void r.push(Buffer.from(`ok:${i}`), () => acked++)
    await r.idle()
    await new Promise((res) => setTimeout(res, 20))
    assert.equal(closedCalls, 1)
    assert.equal(acked, 0)
    assert.deepEqual(recorded, [])
  })

  it('a redelivered copy of a message still in the pipeline joins it: one line, both acknowledged in order', async () => {
    const out = new Out()
    out.hold = true
    const r = new Receiver({ opener: scriptedOpener(), sink: jsonLineSink(out), maxMessageSize: 100 })
    const acked: string[] = []
    void r.push(Buffer.from('ok:1'), () => acked.push('a'))
    void r.push(Buffer.from('ok:2'), () => acked.push('b'))
    void r.push(Buffer.from('ok:1'), () => acked.push('a again'))
    await new Promise((res) => setTimeout(res, 10))
    out.release()
    await r.idle()
    assert.equal(out.lines.length, 2)
    assert.deepEqual(acked, ['a', 'b', 'a again'])
    assert.equal(r.stats().duplicatesJoined, 1)
  })

  it('payloadText for a UTF-8 payload, none for binary', async () => {
    const out = new Out()
    const sink = jsonLineSink(out)
    const base = { from: 'd', auth: 'dnssec', profile: 'valimail', serialization: 'compact' } as const
    await sink.deliver({ ...base, payload: new TextEncoder().encode('héllo') }, new Uint8Array(), 0)
    await sink.deliver({ ...base, payload: new Uint8Array([0xff, 0xfe]) }, new Uint8Array(), 0)
    assert.equal(JSON.parse(out.lines[0] as string).payloadText, 'héllo')
    assert.equal(JSON.parse(out.lines[1] as string).payloadText, undefined)
  })
})

describe('directoryResolver', () => {
  it('never looks up a sender outside the trusted domains', async () => {
    const looked: string[] = []
    const dir: PeerDirectory = {
      lookup: async (name) => {
        looked.push(name)
        return {
          name,
          spki: new Uint8Array([1]),
          spkis: [new Uint8Array([1]), new Uint8Array([2])],
          certs: [],
          auth: 'dnssec',
          records: [],
          expiresAt: 0,
        }
      },
      forget: () => {},
    }
    const resolve = directoryResolver(dir, ['example.com'])
    assert.deepEqual(await resolve('a._device.example.com'), {
      spki: new Uint8Array([1]),
      spkis: [new Uint8Array([1]), new Uint8Array([2])],
      auth: 'dnssec',
    })
    await assert.rejects(resolve('a._device.evil.com'), { code: 'ERR_SENDER_UNTRUSTED' })
    await assert.rejects(resolve('example.com.evil.com'), { code: 'ERR_SENDER_UNTRUSTED' })
    assert.deepEqual(looked, ['a._device.example.com'])
  })
})
