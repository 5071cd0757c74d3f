/** MqttLink + OutboxSender against a real Mosquitto: windowed drain, broker restarts, last will, auth, TLS client certs. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { Backoff } from '../../messaging/backoff.js'
import { MqttLink } from '../../messaging/mqtt.js'
import { openOutbox } from '../../messaging/outbox.js'
import { OutboxSender } from '../../messaging/sender.js'
import { DEFAULT_MAX_MESSAGE_SIZE } from '../../settings/settings.js'
import { type Mosquitto, makeBrokerPki, startMosquitto } from '../../testkit/mosquitto.js'
import { makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-mqtt-')
const brokers: Mosquitto[] = []
const links: MqttLink[] = []
after(async () => {
  for (const l of links) await l.stop().catch(() => {})
  for (const b of brokers) await b.stop()
  tmp.cleanup()
})

const fastBackoff = (): Backoff => new Backoff({ baseMs: 50, capMs: 500, minMs: 20 })
const waitFor = async (pred: () => boolean, ms = 20_000, what = 'condition'): Promise<void> => {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function subscriber(url: string, topic: string, opts: mqtt.IClientOptions = {}): Promise<{ client: mqtt.MqttClient; got: string[] }> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    reconnectPeriod: 200,
    clean: false,
    clientId: `sub-${Math.random()}`,
    properties: { sessionExpiryInterval: 300 },
    ...opts,
  })
  const got: string[] = []
  client.on('message', (_t, p) => got.push(p.toString()))
  await client.subscribeAsync(topic, { qos: 1 })
  return { client, got }
}

describe('MqttLink and OutboxSender on Mosquitto', { timeout: 120_000 }, () => {
  let broker: Mosquitto
  before(async () => {
    broker = await startMosquitto({ dir: join(tmp.dir, 'plain') })
    brokers.push(broker)
  })

  it('drains an outbox with a window of in-flight publications, acknowledging each on PUBACK', async () => {
    const sub = await subscriber(broker.url, 'drain/t')
    const outbox = await openOutbox(join(tmp.dir, 'box1'))
    for (let i = 0; i < 2000; i++) void outbox.append('drain/t', Buffer.from(String(i)))
    const link = new MqttLink({ url: broker.url, maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE, clientId: 'drainer', backoff: fastBackoff() })
    links.push(link)
    const sender = new OutboxSender(link, outbox, { window: 20 })
    let maxInFlight = 0
    const t = setInterval(() => (maxInFlight = Math.max(maxInFlight, sender.stats().inFlight)), 1)
    link.start()
    await waitFor(() => sub.got.length >= 2000, 20_000, 'delivery')
    clearInterval(t)
    assert.ok(await sender.drained(5000))
    assert.equal(outbox.pending, 0)
    assert.deepEqual(new Set(sub.got).size, 2000)
    assert.ok(maxInFlight > 1 && maxInFlight <= 20, `in flight peaked at ${maxInFlight}`)
    await link.stop()
    await outbox.close()
    await sub.client.endAsync()
  })

  it('keeps publishing through two broker restarts: every entry arrives, the outbox ends empty', async () => {
    const sub = await subscriber(broker.url, 'restart/t')
    const outbox = await openOutbox(join(tmp.dir, 'box2'))
    const link = new MqttLink({ url: broker.url, maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE, clientId: 'restarter', backoff: fastBackoff() })
    links.push(link)
    const sender = new OutboxSender(link, outbox)
    link.start()
    let i = 0
    const produce = async (n: number): Promise<void> => {
      for (const end = i + n; i < end; i++) {
        await outbox.append('restart/t', Buffer.from(String(i)))
        if (i % 50 === 0) await new Promise((r) => setImmediate(r))
      }
    }
    await produce(1000)
    await broker.restart()
    await produce(1000)
    await broker.restart()
    await produce(1000)
    await waitFor(() => new Set(sub.got).size >= 3000, 30_000, 'all 3000')
    assert.ok(await sender.drained(10_000))
    assert.ok(link.stats().connects >= 3, `connects: ${link.stats().connects}`)
    await link.stop()
    await outbox.close()
    await sub.client.endAsync()
  })

  it('announces online, and the broker publishes the last will when the connection dies', async () => {
    const watch = await subscriber(broker.url, 'dev/status')
    const link = new MqttLink({
      url: broker.url,
      maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
      clientId: 'willer',
      statusTopic: 'dev/status',
      willDelaySeconds: 0,
      backoff: new Backoff({ baseMs: 60_000, capMs: 60_000, minMs: 60_000 }),
    })
    links.push(link)
    link.start()
    await waitFor(() => watch.got.includes('online'), 10_000, 'online')
    link.client.stream.destroy() // an abrupt loss: no DISCONNECT, so the broker sends the will
    await waitFor(() => watch.got.at(-1) === 'offline', 10_000, 'will')
    await link.stop()
    await watch.client.endAsync()
  })

  it('speaks MQTT 3.1.1 when asked (no session expiry property)', async () => {
    const b = await startMosquitto({ dir: join(tmp.dir, 'v311') })
    brokers.push(b)
    const link = new MqttLink({
      url: b.url,
      maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
      clientId: 'old',
      protocolVersion: 4,
      backoff: fastBackoff(),
    })
    links.push(link)
    link.start()
    await waitFor(() => link.connected, 10_000, 'connect')
    assert.equal(link.stats().protocolVersion, 4)
    await link.stop()
  })
})

describe('MqttLink protocol fallback', { timeout: 30_000 }, () => {
  it('falls back to MQTT 3.1.1 when the broker refuses MQTT 5 (aedes 1.x answers "unacceptable protocol version")', async () => {
    const broker = await Aedes.createBroker()
    const srv = createServer(broker.handle)
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
    try {
      const link = new MqttLink({
        url: `mqtt://127.0.0.1:${(srv.address() as AddressInfo).port}`,
        clientId: 'fallback',
        maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
        backoff: fastBackoff(),
      })
      links.push(link)
      link.start()
      await waitFor(() => link.connected, 10_000, 'connect over 3.1.1')
      assert.equal(link.stats().protocolVersion, 4)
      assert.ok(link.stats().connectErrors >= 1, 'the MQTT 5 attempt was refused first')
      await link.stop()
    } finally {
      srv.close()
      await new Promise<void>((r) => broker.close(() => r()))
    }
  })
})

describe('MqttLink authentication', { timeout: 60_000 }, () => {
  it('username and password: a wrong password is refused, the right one connects', async () => {
    const b = await startMosquitto({ dir: join(tmp.dir, 'auth'), users: { dev1: 's3cret-pw' } })
    brokers.push(b)
    const bad = new MqttLink({
      url: b.url,
      maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
      clientId: 'bad',
      username: 'dev1',
      password: 'nope',
      backoff: fastBackoff(),
    })
    links.push(bad)
    bad.start()
    await waitFor(() => bad.stats().connectErrors > 0, 10_000, 'refusal')
    assert.equal(bad.connected, false)
    await bad.stop()
    const good = new MqttLink({
      url: b.url,
      maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
      clientId: 'good',
      username: 'dev1',
      password: 's3cret-pw',
      backoff: fastBackoff(),
    })
    links.push(good)
    good.start()
    await waitFor(() => good.connected, 10_000, 'connect')
    await good.stop()
  })

  it('mqtts:// with a client certificate: without one the broker refuses, with one it connects', async () => {
    const d = join(tmp.dir, 'tls')
    makeBrokerPki(d)
    const b = await startMosquitto({
      dir: d,
      tls: { cafile: join(d, 'ca.crt'), certfile: join(d, 'server.crt'), keyfile: join(d, 'server.key'), requireCertificate: true },
    })
    brokers.push(b)
    assert.match(b.url, /^mqtts:/)
    const ca = readFileSync(join(d, 'ca.crt'))
    const anon = new MqttLink({ url: b.url, maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE, clientId: 'anon', ca, backoff: fastBackoff() })
    links.push(anon)
    anon.start()
    await waitFor(
      () =>
        anon.stats().connectErrors > 0 ||
        anon.stats().disconnects > 0 ||
        (anon as unknown as { client: mqtt.MqttClient }).client.disconnecting,
      5000,
      'refusal',
    ).catch(() => {})
    await new Promise((r) => setTimeout(r, 500))
    assert.equal(anon.connected, false)
    await anon.stop()
    const link = new MqttLink({
      url: b.url,
      maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
      clientId: 'cert',
      ca,
      cert: readFileSync(join(d, 'client.crt')),
      key: readFileSync(join(d, 'client.key')),
      backoff: fastBackoff(),
    })
    links.push(link)
    link.start()
    await waitFor(() => link.connected, 10_000, 'TLS connect')
    await link.stop()
  })
})
