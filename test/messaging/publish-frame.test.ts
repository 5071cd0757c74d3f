/** FramePublisher and writePuback against a real Mosquitto: QoS 1 frames arrive intact (MQTT 5 and 3.1.1), PUBACKs call back and are honoured. */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import mqtt from 'mqtt'
import { FramePublisher, writePuback } from '../../messaging/publish-frame.js'
import { type Mosquitto, startMosquitto } from '../../testkit/mosquitto.js'
import { makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-frame-')
let broker: Mosquitto
before(async () => {
  broker = await startMosquitto({ dir: join(tmp.dir, 'broker'), persistence: false })
})
after(async () => {
  await broker?.stop()
  tmp.cleanup()
})

/** Payloads of sizes around each remaining-length boundary (1, 2 and 3 bytes of length, §2.1.4). */
const sizes = [0, 1, 100, 127, 128, 16_000, 16_383, 16_384, 70_000]
const payload = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff))

for (const protocolVersion of [5, 4] as const) {
  describe(`FramePublisher, MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}`, () => {
    it('delivers every payload byte for byte on its topic, calls back on PUBACK, frees the packet identifiers', async () => {
      const topic = `frame/${protocolVersion}/é`
      const sub = await mqtt.connectAsync(broker.url, { protocolVersion, clientId: `fsub-${protocolVersion}` })
      const got: { topic: string; payload: Buffer; qos: number }[] = []
      sub.on('message', (t, p, packet) => got.push({ topic: t, payload: Buffer.from(p), qos: packet.qos }))
      await sub.subscribeAsync(topic, { qos: 1 })
      const pub = await mqtt.connectAsync(broker.url, { protocolVersion, clientId: `fpub-${protocolVersion}` })
      const frames = new FramePublisher()
      const sent: Buffer[] = []
      const acks: (Error | null | undefined)[] = []
      const rounds = 30
      await new Promise<void>((resolve) => {
        for (let r = 0; r < rounds; r++) {
          for (const [k, n] of sizes.entries()) {
            const p = payload(n, r * 16 + k)
            sent.push(p)
            frames.publish(pub, topic, p, (err) => {
              acks.push(err)
              if (acks.length === rounds * sizes.length) resolve()
            })
          }
        }
      })
      assert.deepEqual(
        acks.filter((e) => e !== null),
        [],
        'every PUBACK called back without an error',
      )
      const end = Date.now() + 10_000
      while (got.length < sent.length && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
      assert.equal(got.length, sent.length)
      for (const [i, m] of got.entries()) {
        assert.equal(m.topic, topic)
        assert.equal(m.qos, 1)
        assert.ok(m.payload.equals(sent[i] as Buffer), `message ${i} (${sent[i]?.length} bytes) intact and in order`)
      }
      assert.deepEqual(Object.keys(pub.outgoing), [], 'nothing left waiting for a PUBACK')
      // MQTT.js's own publish still works beside ours: the identifiers were given back
      await pub.publishAsync(topic, 'plain', { qos: 1 })
      await pub.endAsync()
      await sub.endAsync()
    })
  })
}

/** Receives `n` messages on a persistent session, acknowledging with writePuback or not at all; then reconnects and counts redeliveries. */
async function redeliveredAfter(protocolVersion: 4 | 5, acknowledge: boolean): Promise<number> {
  const topic = `puback/${protocolVersion}/${acknowledge}`
  const clientId = `pack-${protocolVersion}-${acknowledge}`
  const session = {
    protocolVersion,
    clientId,
    clean: false,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 300 } } : {}),
  }
  // past Mosquitto's 20 in flight only when acknowledging: receiving all 25 then shows the PUBACKs freed the window
  const n = acknowledge ? 25 : 10
  const goOn = new Error('acknowledged by us')
  const receive = async (count: { n: number }): Promise<mqtt.MqttClient> => {
    const sub = mqtt.connect(broker.url, session) // the handler is in place before the broker redelivers anything
    const up = new Promise((r) => sub.once('connect', r))
    sub.handleMessage = (packet, done) => {
      count.n++
      if (acknowledge && packet.messageId !== undefined) writePuback(sub, packet.messageId)
      done(goOn) // MQTT.js goes on without sending its own PUBACK (as messaging/receiver.ts attachReceiver)
    }
    await up
    await sub.subscribeAsync(topic, { qos: 1 })
    return sub
  }
  const first = { n: 0 }
  const sub = await receive(first)
  const pub = await mqtt.connectAsync(broker.url, { protocolVersion, clientId: `${clientId}-pub` })
  for (let i = 0; i < n; i++) await pub.publishAsync(topic, `m${i}`, { qos: 1 })
  const end = Date.now() + 10_000
  while (first.n < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
  assert.equal(first.n, n)
  await new Promise((r) => setTimeout(r, 200)) // the PUBACKs reach the broker
  await sub.endAsync()
  const again = { n: 0 }
  const sub2 = await receive(again)
  await new Promise((r) => setTimeout(r, 600))
  await sub2.endAsync()
  await pub.endAsync()
  return again.n
}

describe('writePuback', () => {
  for (const protocolVersion of [5, 4] as const) {
    it(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: acknowledged messages are not redelivered; unacknowledged ones are (the check can fail)`, async () => {
      assert.equal(await redeliveredAfter(protocolVersion, true), 0)
      assert.ok((await redeliveredAfter(protocolVersion, false)) > 0)
    })
  }
})
