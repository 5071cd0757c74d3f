/** Home Assistant publishing: discovery once per node and again when its sensor set grows or the broker reconnects; state per reading. */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { describe, it } from 'node:test'
import { HaPublisher } from '../../gateway/ha-publisher.js'
import { discoveryMessage, stateTopic } from '../../gateway/homeassistant.js'
import type { ReadingRow } from '../../gateway/store/types.js'
import type { MqttLink } from '../../messaging/mqtt.js'

interface Sent {
  topic: string
  payload: string
  retain: boolean
  qos: number
}

/** The two members of MqttLink the publisher uses, and its 'up' event. */
function fakeLink(): { link: MqttLink; sent: Sent[]; up: () => void; setConnected: (c: boolean) => void } {
  const ee = new EventEmitter()
  const sent: Sent[] = []
  let connected = true
  const client = {
    publish(topic: string, payload: string, o: { qos: number; retain: boolean }, cb: (e?: Error) => void) {
      sent.push({ topic, payload, retain: o.retain, qos: o.qos })
      cb()
    },
  }
  Object.defineProperty(ee, 'connected', { get: () => connected })
  Object.defineProperty(ee, 'client', { get: () => client })
  return { link: ee as unknown as MqttLink, sent, up: () => ee.emit('up'), setConnected: (c) => (connected = c) }
}

const NODE = 'n1.airquality._device.example.test'
const row = (sensor: string | null, values: Record<string, number>, model = 'PMS5003'): ReadingRow => ({
  node: NODE,
  seq: 1,
  time: '2026-12-02T12:00:00.000Z',
  receivedAt: '2026-12-02T12:00:00.010Z',
  auth: 'dnssec',
  bound: true,
  sensor,
  model,
  values,
})

describe('HaPublisher', () => {
  it('announces a node once, again when a key or sensor appears, and sends state for each reading', () => {
    const { link, sent } = fakeLink()
    const ha = new HaPublisher(link, { version: '0.1.0' })
    ha.reading(row('pms0', { pm25: 8 }))
    ha.reading(row('pms0', { pm25: 9 }))
    assert.deepEqual(
      sent.map((s) => [s.topic, s.retain]),
      [
        [discoveryMessage(NODE, [], { version: '0.1.0' }).topic, true],
        [stateTopic(NODE, 'pms0'), false],
        [stateTopic(NODE, 'pms0'), false],
      ],
    )
    assert.deepEqual(sent[0], { ...discoveryMessage(NODE, [{ sensor: 'pms0', model: 'PMS5003', keys: ['pm25'] }], { version: '0.1.0' }) })
    assert.equal(sent[2]?.payload, '{"pm25":9}')
    ha.reading(row('pms0', { pm25: 9, pm10: 12 })) // a new key: announced again
    ha.reading(row('scd0', { co2: 600 }, 'SCD41')) // a new sensor: announced again, with both
    const configs = sent.filter((s) => s.retain)
    assert.equal(configs.length, 3)
    assert.deepEqual(
      configs[2],
      discoveryMessage(
        NODE,
        [
          { sensor: 'pms0', model: 'PMS5003', keys: ['pm25', 'pm10'] },
          { sensor: 'scd0', model: 'SCD41', keys: ['co2'] },
        ],
        { version: '0.1.0' },
      ),
    )
    assert.equal(ha.published, sent.length)
  })

  it('a reading without a sensor id is not published; nothing is sent while disconnected; a reconnect re-announces', () => {
    const { link, sent, up, setConnected } = fakeLink()
    const ha = new HaPublisher(link, { version: '0.1.0', prefix: 'ha' })
    ha.reading(row(null, { pm25: 1 }))
    assert.equal(sent.length, 0)
    setConnected(false)
    ha.reading(row('pms0', { pm25: 2 }))
    assert.equal(sent.length, 0)
    setConnected(true)
    up()
    assert.equal(sent.length, 1)
    assert.match(sent[0]?.topic ?? '', /^ha\/device\/.+\/config$/)
  })
})
