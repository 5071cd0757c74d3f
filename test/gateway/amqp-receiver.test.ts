/** The gateway's AMQP receiver over a fake AmqpSource: ack only after the sink resolved (any order); rejections; retries; a lost channel. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AmqpReceiver } from '../../gateway/amqp-receiver.js'
import type { ReceiverSink } from '../../gateway/sink.js'
import type { AmqpSource, OnMessage } from '../../gateway/source-amqp.js'
import { DaneelError } from '../../src/errors.js'
import type { OpenedMessage, Opener } from '../../src/message/open.js'

/** What AmqpReceiver touches of AmqpSource: start(onMessage), pause, stop, stats; deliveries on a channel that can be lost. */
function fakeSource() {
  let on: OnMessage | undefined
  let open = true
  const acked: string[] = []
  const source = {
    start: async (m: OnMessage) => {
      on = m
    },
    pause: async () => undefined,
    stop: async () => undefined,
    stats: () => ({ connects: 1, disconnects: 0, deliveries: 0, redelivered: 0, acks: acked.length, unacked: 0, url: undefined }),
  } as unknown as AmqpSource
  return {
    source,
    acked,
    deliver: (text: string): void => {
      const channelOpen = open
      ;(on as OnMessage)(
        Buffer.from(text),
        () => acked.push(text),
        () => open && channelOpen,
      )
    },
    lose: () => {
      open = false
    },
  }
}

/** Opener: "bad" → ERR_JWS_SIGNATURE (permanent), "flaky*" → ERR_DNS_TIMEOUT the first `n` times, else opened. */
function fakeOpener(failures = 1): Opener & { calls: number } {
  const failed = new Map<string, number>()
  const o = {
    calls: 0,
    async open(bytes: Uint8Array | string): Promise<OpenedMessage> {
      o.calls++
      const text = Buffer.from(bytes as Uint8Array).toString()
      if (text === 'bad') throw new DaneelError('ERR_JWS_SIGNATURE', 'bad signature')
      if (text.startsWith('flaky') && (failed.get(text) ?? 0) < failures) {
        failed.set(text, (failed.get(text) ?? 0) + 1)
        throw new DaneelError('ERR_DNS_TIMEOUT', 'timeout')
      }
      return { from: 'n.example.test', auth: 'dnssec', claims: { text } } as unknown as OpenedMessage
    },
  }
  return o
}

/** A sink whose deliveries resolve when the test says so. */
function heldSink(): ReceiverSink & { resolve(text: string): void; delivered: string[] } {
  const waiting = new Map<string, () => void>()
  return {
    delivered: [],
    deliver(m: OpenedMessage) {
      const text = String((m.claims as { text: string }).text)
      this.delivered.push(text)
      return new Promise<void>((r) => waiting.set(text, r))
    },
    resolve(text: string) {
      waiting.get(text)?.()
    },
  }
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('AmqpReceiver', () => {
  it('acknowledges each delivery only once the sink resolved, in any order; permanent refusals acked and counted', async () => {
    const f = fakeSource()
    const sink = heldSink()
    const rejected: string[] = []
    const r = new AmqpReceiver({ source: f.source, opener: fakeOpener(), sink, maxMessageSize: 64, onRejected: (c) => rejected.push(c) })
    await r.start()
    for (const t of ['a', 'b', 'bad', 'x'.repeat(65)]) f.deliver(t)
    await tick()
    assert.deepEqual(sink.delivered, ['a', 'b'])
    assert.deepEqual([...f.acked].sort(), ['bad', 'x'.repeat(65)], 'refusals are acked at once, the readings wait for their commit')
    assert.deepEqual(rejected.sort(), ['ERR_JWS_SIGNATURE', 'ERR_MESSAGE_TOO_LARGE'])
    sink.resolve('b')
    await tick()
    assert.deepEqual(f.acked.slice(2), ['b'], 'AMQP acks by delivery tag: b need not wait for a')
    sink.resolve('a')
    await tick()
    assert.deepEqual(f.acked.slice(2), ['b', 'a'])
    assert.deepEqual(
      { received: r.stats().received, acknowledged: r.stats().acknowledged, rejected: r.stats().rejected },
      { received: 4, acknowledged: 4, rejected: 2 },
    )
  })

  it('retries a temporary failure unacknowledged, then delivers; gives up (no ack) once its channel is gone', async () => {
    const f = fakeSource()
    const sink = heldSink()
    const opener = fakeOpener(1)
    const r = new AmqpReceiver({ source: f.source, opener, sink, maxMessageSize: 64 })
    await r.start()
    f.deliver('flaky-1')
    await tick(20)
    assert.deepEqual(f.acked, [], 'not acknowledged while failing')
    await tick(400) // the first backoff is at most 100 ms
    assert.deepEqual(sink.delivered, ['flaky-1'])
    sink.resolve('flaky-1')
    await tick()
    assert.deepEqual(f.acked, ['flaky-1'])
    assert.equal(r.stats().retries, 1)

    const failing = fakeOpener(1000)
    const always = new AmqpReceiver({ source: f.source, opener: failing, sink, maxMessageSize: 64 })
    await always.start()
    f.deliver('flaky-2')
    await tick(20)
    f.lose() // the broker requeues it with the channel: nothing more to do here
    const calls = failing.calls
    await tick(400)
    assert.deepEqual(f.acked, ['flaky-1'])
    assert.ok(!sink.delivered.includes('flaky-2'))
    assert.equal(failing.calls, calls, 'no more attempts once the channel is gone')
  })
})
