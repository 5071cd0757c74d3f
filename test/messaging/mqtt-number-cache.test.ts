/** mqtt-packet's number cache stays off for every MqttLink: a connect, a QoS 1 publish and its PUBACK through Mosquitto leave it empty. */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { MqttLink } from '../../messaging/mqtt.js'
import { type Mosquitto, startMosquitto } from '../../testkit/mosquitto.js'
import { makeTempDir } from '../../testkit/paths.js'

// The same module instance MQTT.js writes with (one mqtt-packet in node_modules, required as MQTT.js requires it).
const fromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt/package.json'))
const numbers = fromMqtt('mqtt-packet/numbers.js') as { cache: Record<number, Buffer> }
const packet = fromMqtt('mqtt-packet') as { writeToStream: { cacheNumbers: boolean } }

const tmp = makeTempDir('daneel-numcache-')
let broker: Mosquitto | undefined
before(async () => {
  broker = await startMosquitto({ dir: join(tmp.dir, 'mosquitto'), persistence: false })
})
after(async () => {
  await broker?.stop()
  tmp.cleanup()
})

test('after a connect, a subscribe and QoS 1 publications, mqtt-packet has cached no numbers (65,536 Buffers, 6.3 MB, when on)', async () => {
  assert.equal(packet.writeToStream.cacheNumbers, false)
  const link = new MqttLink({ url: broker?.url as string, clientId: 'numcache', maxMessageSize: 16_384 })
  const up = new Promise<void>((r) => link.once('up', () => r()))
  link.start()
  await up
  const client = link.client
  await client.subscribeAsync('numcache/t', { qos: 1 })
  for (let i = 0; i < 5; i++) await client.publishAsync('numcache/t', `m${i}`, { qos: 1 })
  assert.equal(Object.keys(numbers.cache).length, 0)
  await link.stop()
})
