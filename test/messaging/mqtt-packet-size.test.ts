/** MQTT 5 Maximum Packet Size on a real Mosquitto: a publication over MAX_MESSAGE_SIZE + header room never reaches an MqttLink. */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import mqtt from 'mqtt'
import { Backoff } from '../../messaging/backoff.js'
import { MQTT_HEADER_ROOM, MqttLink, mqttMaximumPacketSize } from '../../messaging/mqtt.js'
import { type Mosquitto, startMosquitto } from '../../testkit/mosquitto.js'
import { makeTempDir } from '../../testkit/paths.js'

const MAX = 16384
const tmp = makeTempDir('daneel-mqtt-size-')
let broker: Mosquitto
let tap: mqtt.MqttClient
const links: MqttLink[] = []

before(async () => {
  broker = await startMosquitto({ dir: join(tmp.dir, 'broker') })
  // The tap is a plain MQTT.js client with no bound of its own: any publisher on the broker may send this much.
  tap = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'size-tap' })
})
after(async () => {
  for (const l of links) await l.stop().catch(() => {})
  await tap?.endAsync()
  await broker?.stop()
  tmp.cleanup()
})

const waitFor = async (pred: () => boolean, what: string, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A link subscribed to `topic` at QoS 1 that records the size of every payload it receives. */
async function boundedReceiver(clientId: string, topic: string): Promise<{ link: MqttLink; sizes: number[] }> {
  const link = new MqttLink({ url: broker.url, clientId, maxMessageSize: MAX, backoff: new Backoff({ baseMs: 50, capMs: 500, minMs: 20 }) })
  links.push(link)
  const sizes: number[] = []
  const up = new Promise<void>((r) => link.once('up', () => r()))
  link.start()
  // before CONNACK: a resumed session delivers its queue right after it
  link.client.on('message', (_t, p) => sizes.push(p.length))
  await up
  await link.client.subscribeAsync(topic, { qos: 1 })
  return { link, sizes }
}

describe('MQTT maximumPacketSize from MAX_MESSAGE_SIZE', { timeout: 120_000 }, () => {
  it('is MAX_MESSAGE_SIZE plus the header room, and misuse is a RangeError', () => {
    assert.equal(mqttMaximumPacketSize(MAX), MAX + MQTT_HEADER_ROOM)
    assert.equal(mqttMaximumPacketSize(16 * 1024 * 1024), 16 * 1024 * 1024 + 1024)
    assert.throws(() => mqttMaximumPacketSize(0), RangeError)
    assert.throws(
      () => new MqttLink({ url: broker.url, clientId: 'x', maxMessageSize: undefined as unknown as number }),
      RangeError,
      'a link without a bound cannot be made',
    )
  })

  it('the broker drops 1 MB and 32 MB publications instead of sending them; messages up to the bound pass, in order, on one connection', async () => {
    const topic = 'rx.gateway._device.example.test'
    const { link, sizes } = await boundedReceiver('size-live', topic)
    const fits = MAX + MQTT_HEADER_ROOM - 5 - 2 - topic.length - 2 - 1 - 16 // just under the packet bound
    const sent = [300, 1024 * 1024, MAX + 500, 32 * 1024 * 1024, fits, 200]
    for (const n of sent) await tap.publishAsync(topic, Buffer.alloc(n, 0x41), { qos: 1 })
    await waitFor(() => sizes.includes(200), 'the last small message')
    await new Promise((r) => setTimeout(r, 200))
    // MAX + 500 passes on purpose: the receiver's own MAX_MESSAGE_SIZE check refuses it under its code
    assert.deepEqual(sizes, [300, MAX + 500, fits, 200])
    const s = link.stats()
    assert.equal(s.protocolVersion, 5)
    assert.equal(s.disconnects, 0, 'the broker dropped them: MQTT.js never saw one and did not close the connection')
    assert.equal(s.connects, 1)
  })

  it('a persistent session: an oversized message queued while the receiver was away is dropped at delivery, the rest arrive', async () => {
    const topic = 'away.gateway._device.example.test'
    const first = await boundedReceiver('size-away', topic)
    await first.link.stop()
    for (const n of [100, 4 * 1024 * 1024, 101]) await tap.publishAsync(topic, Buffer.alloc(n, 0x42), { qos: 1 })
    const again = await boundedReceiver('size-away', topic)
    await waitFor(() => again.sizes.includes(101), 'the queued small messages')
    await new Promise((r) => setTimeout(r, 200))
    assert.deepEqual(again.sizes, [100, 101])
    assert.equal(again.link.stats().disconnects, 0)
  })
})
