/**
 * Home Assistant device-based discovery payloads against HA's documented schema (home-assistant.io, MQTT integration,
 * "Device discovery payload"): root `dev` and `o` mappings are mandatory, components go under `cmps`, each with a
 * platform `p` and a `unique_id`; the topic is `<discovery_prefix>/device/<object_id>/config`, object ids in
 * [a-zA-Z0-9_-]; an empty retained payload removes the device.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { discoveryMessage, haObjectId, removalMessage, sensorsFromLatest, stateMessage, stateTopic } from '../../gateway/homeassistant.js'

const NODE = 'air1._device.example.org'
const sensors = sensorsFromLatest({
  pms0: { model: 'pms5003', values: { pm1: 3, pm25: 5, pm10: 8, pm25Cf1: 6 } },
  bme0: { model: 'bme280', values: { temperature: 21, humidity: 40, pressure: 1013 } },
  mhz0: { model: 'mh-z19b', values: { co2: 600 } },
})

describe('Home Assistant discovery', () => {
  const msg = discoveryMessage(NODE, sensors, { version: '0.1.0' })
  const payload = JSON.parse(msg.payload) as {
    dev: { ids: string[]; name: string }
    o: { name: string; sw: string }
    cmps: Record<string, Record<string, string>>
  }

  it('one retained message on <prefix>/device/<object_id>/config', () => {
    assert.match(msg.topic, /^homeassistant\/device\/[a-zA-Z0-9_-]+\/config$/)
    assert.equal(msg.retain, true)
    assert.equal(msg.qos, 1)
    assert.equal(discoveryMessage(NODE, sensors, { version: '1', prefix: 'ha' }).topic.split('/')[0], 'ha')
  })

  it('root: the mandatory device and origin mappings', () => {
    assert.ok(Array.isArray(payload.dev.ids) && payload.dev.ids.length === 1)
    assert.equal(payload.dev.name, NODE)
    assert.deepEqual(payload.o, { name: 'daneel', sw: '0.1.0' })
    for (const k of Object.keys(payload)) assert.ok(['dev', 'o', 'cmps', 'qos'].includes(k), `unexpected root key ${k}`)
  })

  it('one sensor component per value key, each with platform, unique id, its state topic and template', () => {
    const cmps = Object.entries(payload.cmps)
    assert.equal(cmps.length, 4 + 3 + 1)
    const uids = new Set<string>()
    for (const [id, c] of cmps) {
      assert.equal(c.p, 'sensor')
      assert.equal(c.unique_id, id)
      assert.match(id, /^[a-zA-Z0-9_-]+$/)
      uids.add(id)
      assert.match(c.value_template ?? '', /^\{\{ value_json\.[A-Za-z0-9]+ \}\}$/)
      assert.equal(c.state_class, 'measurement')
    }
    assert.equal(uids.size, cmps.length)
    const pm25 = cmps.find(([, c]) => c.device_class === 'pm25')?.[1]
    assert.deepEqual(
      { t: pm25?.state_topic, u: pm25?.unit_of_measurement, v: pm25?.value_template },
      { t: stateTopic(NODE, 'pms0'), u: 'µg/m³', v: '{{ value_json.pm25 }}' },
    )
    const co2 = cmps.find(([, c]) => c.device_class === 'carbon_dioxide')?.[1]
    assert.equal(co2?.unit_of_measurement, 'ppm')
    // A value with no HA device class still appears, without a device_class.
    const cf1 = cmps.find(([id]) => id.endsWith('_pm25Cf1'))?.[1]
    assert.ok(cf1 && cf1.device_class === undefined && cf1.unit_of_measurement === 'µg/m³')
  })

  it('object ids: HA charset, and names that map alike stay distinct', () => {
    assert.match(haObjectId(NODE), /^[a-zA-Z0-9_-]+$/)
    assert.notEqual(haObjectId('a.b.example'), haObjectId('a_b.example'))
  })

  it('state messages carry the reading values on the component state topic; removal is an empty retained payload', () => {
    const s = stateMessage({
      node: NODE,
      seq: 1,
      time: '',
      receivedAt: '',
      auth: 'dnssec',
      bound: true,
      sensor: 'pms0',
      model: 'pms5003',
      values: { pm25: 5 },
    })
    assert.deepEqual(s, { topic: stateTopic(NODE, 'pms0'), payload: '{"pm25":5}', retain: false, qos: 0 })
    assert.deepEqual(removalMessage(NODE), { topic: msg.topic, payload: '', retain: true, qos: 1 })
  })
})
