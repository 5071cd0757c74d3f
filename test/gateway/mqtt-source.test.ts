/** The gateway's MQTT source over a fake MQTT.js client: PUBACK only after the sink resolved, in arrival order; rejections; retries; reconnects. */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { describe, it } from 'node:test'
import { MqttSource } from '../../gateway/mqtt-source.js'
import type { ReceiverSink } from '../../gateway/sink.js'
import type { MqttLink } from '../../messaging/mqtt.js'
import { DaneelError } from '../../src/errors.js'
import type { OpenedMessage, Opener } from '../../src/message/open.js'

type Done = (err?: Error) => void

/** What MqttSource touches of MqttLink and MQTT.js's client: 'up'/'down', handleMessage, subscribe, _sendPacket. */
function fakeLink() {
  const ee = new EventEmitter()
  const acks: number[] = []
  const client = {
    handleMessage: (_p: unknown, _d: Done): void => {},
    subscribe: (_t: string, _o: unknown, cb: (e: Error | null) => void) => cb(null),
    _sendPacket: (p: { cmd: string; messageId: number }) => {
      assert.equal(p.cmd, 'puback')
      acks.push(p.messageId)
    },
  }
  Object.defineProperty(ee, 'client', { get: () => client })
  const link = ee as unknown as MqttLink
  let nextDone: boolean[] = []
  /** Delivers a QoS 1 PUBLISH; returns whether MQTT.js was let on to the next packet (and never with a PUBACK). */
  const publish = (messageId: number, payload: string): void => {
    const i = nextDone.length
    nextDone.push(false)
    client.handleMessage({ messageId, qos: 1, payload: Buffer.from(payload) }, (err) => {
      assert.ok(err instanceof Error, 'MQTT.js must not send its own PUBACK')
      nextDone[i] = true
    })
  }
  return {
    link,
    acks,
    publish,
    released: () => nextDone,
    up: () => {
      nextDone = []
      ee.emit('up')
    },
    down: () => ee.emit('down'),
  }
}

const opened = (text: string): OpenedMessage =>
  ({ from: 'n.example.test', auth: 'dnssec', profile: 'compact', serialization: 'compact', claims: { text } }) as unknown as OpenedMessage

/** Opener: "bad" → ERR_JWS_SIGNATURE (permanent), "flaky" → ERR_DNS_TIMEOUT the first time, else opened. */
function fakeOpener(): Opener & { calls: number } {
  let flaked = false
  const o = {
    calls: 0,
    async open(bytes: Uint8Array | string): Promise<OpenedMessage> {
      o.calls++
      const text = Buffer.from(bytes as Uint8Array).toString()
      if (text === 'bad') throw new DaneelError('ERR_JWS_SIGNATURE', 'bad signature')
      if (text === 'flaky' && !flaked) {
        flaked = true
        throw new DaneelError('ERR_DNS_TIMEOUT', 'timeout')
      }
      return opened(text)
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

describe('MqttSource', () => {
  it('acknowledges only after the sink resolved, in the order the messages came; permanent rejections counted and acked', async () => {
    const f = fakeLink()
    const sink = heldSink()
    const rejected: string[] = []
    const source = new MqttSource({
      link: f.link,
      topic: 't',
      opener: fakeOpener(),
      sink,
      maxMessageSize: 64,
      onRejected: (c) => rejected.push(c),
    })
    f.up()
    f.publish(1, 'a')
    f.publish(2, 'b')
    f.publish(3, 'bad')
    f.publish(4, 'x'.repeat(65)) // over the size cap: never opened
    await tick()
    assert.deepEqual(f.released(), [true, true, true, true], 'MQTT.js reads on without a PUBACK')
    assert.deepEqual(sink.delivered, ['a', 'b'])
    sink.resolve('b')
    await tick()
    assert.deepEqual(f.acks, [], 'b waits for a: PUBACKs go out in order')
    sink.resolve('a')
    await tick()
    assert.deepEqual(f.acks, [1, 2, 3, 4])
    assert.deepEqual(rejected.sort(), ['ERR_JWS_SIGNATURE', 'ERR_MESSAGE_TOO_LARGE'])
    assert.deepEqual(source.stats(), { received: 4, acknowledged: 4, rejected: 2, retries: 0, pending: 0 })
  })

  it('a temporary failure is retried and acknowledged only once delivered', async () => {
    const f = fakeLink()
    const sink = heldSink()
    const opener = fakeOpener()
    const source = new MqttSource({ link: f.link, topic: 't', opener, sink, maxMessageSize: 64 })
    f.up()
    f.publish(7, 'flaky')
    await tick(10)
    assert.deepEqual(f.acks, [])
    assert.equal(source.stats().retries, 1)
    const end = Date.now() + 5000
    while (sink.delivered.length === 0 && Date.now() < end) await tick(20)
    assert.deepEqual(sink.delivered, ['flaky'])
    sink.resolve('flaky')
    await tick()
    assert.deepEqual(f.acks, [7])
    assert.equal(opener.calls, 2)
  })

  it('past maxPending MQTT.js is held (no more reads) until acknowledgements make room', async () => {
    const f = fakeLink()
    const sink = heldSink()
    new MqttSource({ link: f.link, topic: 't', opener: fakeOpener(), sink, maxMessageSize: 64, maxPending: 2 })
    f.up()
    f.publish(1, 'a')
    f.publish(2, 'b') // the second pending one: MQTT.js is not let on (it reads nothing more meanwhile)
    await tick()
    assert.deepEqual(f.released(), [true, false])
    sink.resolve('a')
    await tick()
    assert.deepEqual(f.acks, [1])
    assert.deepEqual(f.released(), [true, true])
  })

  it('opens at most `concurrency` messages at once: a cold gateway has that many sender lookups in flight, not one per message', async () => {
    const f = fakeLink()
    const sink = heldSink()
    let inFlight = 0
    let most = 0
    const release: Array<() => void> = []
    const opener: Opener = {
      async open(bytes) {
        inFlight++
        most = Math.max(most, inFlight)
        await new Promise<void>((r) => release.push(r)) // a DNS lookup of an unknown sender, say
        inFlight--
        return opened(Buffer.from(bytes as Uint8Array).toString())
      },
    }
    new MqttSource({ link: f.link, topic: 't', opener, sink, maxMessageSize: 64, concurrency: 3 })
    f.up()
    for (let i = 1; i <= 10; i++) f.publish(i, `m${i}`)
    for (let round = 0; round < 10 && sink.delivered.length < 10; round++) {
      await tick(5)
      assert.ok(inFlight <= 3, `${inFlight} opens in flight`)
      for (const r of release.splice(0)) r()
    }
    await tick(5)
    assert.equal(most, 3)
    assert.equal(sink.delivered.length, 10)
  })

  it('nothing of an old connection is acknowledged on a new one (the broker redelivers it)', async () => {
    const f = fakeLink()
    const sink = heldSink()
    const source = new MqttSource({ link: f.link, topic: 't', opener: fakeOpener(), sink, maxMessageSize: 64 })
    f.up()
    f.publish(1, 'a')
    await tick()
    f.down()
    f.up()
    sink.resolve('a')
    await tick()
    assert.deepEqual(f.acks, [])
    assert.equal(source.stats().pending, 0)
    f.publish(1, 'a2')
    await tick()
    sink.resolve('a2')
    await tick()
    assert.deepEqual(f.acks, [1])
  })
})
