/** Scale-out against real engines: a 3-node RabbitMQ cluster (MQTT 3.1.1 in, quorum queue out), `daneel gateway` AMQP workers, PostgreSQL, chaos. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import amqp from 'amqplib'
import mqtt, { type MqttClient } from 'mqtt'
import pg from 'pg'
import { AmqpSource, parseAmqpUrls } from '../../gateway/source-amqp.js'
import { Backoff } from '../../messaging/backoff.js'
import { MqttLink } from '../../messaging/mqtt.js'
import { MemoryOutbox } from '../../messaging/outbox/memory.js'
import { OutboxSender } from '../../messaging/sender.js'
import { isDaneelError } from '../../src/errors.js'
import type { DnsLab } from '../../testkit/dns-lab.js'
import { cliPath } from '../../testkit/paths.js'
import { type Postgres, startPostgres } from '../../testkit/postgres.js'
import { type RabbitCluster, startRabbitCluster } from '../../testkit/rabbitmq.js'
import { sealReading, startFleet, startWorker } from '../../testkit/scale-fleet.js'

const pgDir = mkdtempSync(join(tmpdir(), 'daneel-scale-pg-'))
const rmqDir = mkdtempSync(join(tmpdir(), 'daneel-scale-rmq-'))
const work = mkdtempSync(join(tmpdir(), 'daneel-scale-'))
let cluster: RabbitCluster
let db: Postgres
const labs: DnsLab[] = []
const quiet = (): undefined => undefined

before(async () => {
  // started together; whichever started is stopped by after() even if the other failed
  const [c, p] = await Promise.allSettled([startRabbitCluster(rmqDir, 3), startPostgres(pgDir)])
  if (c.status === 'fulfilled') cluster = c.value
  if (p.status === 'fulfilled') db = p.value
  for (const s of [c, p]) if (s.status === 'rejected') throw s.reason
  console.log(`rabbitmq: 3-node cluster formed in ${(cluster.startMs / 1000).toFixed(1)} s`)
})
after(async () => {
  await Promise.all([cluster?.stop(), db?.stop(), ...labs.map((l) => l.stop())])
  for (const d of [pgDir, rmqDir, work]) rmSync(d, { recursive: true, force: true })
})

const connect311 = (url: string | string[], clientId: string): Promise<MqttClient> => {
  const urls = Array.isArray(url) ? url : [url]
  const servers = urls.map((u) => {
    const p = new URL(u)
    return { host: p.hostname, port: Number(p.port) }
  })
  return mqtt.connectAsync(urls[0] as string, {
    protocolVersion: 4,
    clientId,
    clean: false,
    servers,
    reconnectPeriod: 300,
    connectTimeout: 5000,
  })
}

describe('rabbitmq cluster', () => {
  it('is three running nodes of one cluster, each with the MQTT plugin', async () => {
    const status = await cluster.ctl(1, ['cluster_status', '--formatter', 'json'])
    const s = JSON.parse(status) as { running_nodes: string[] }
    assert.deepEqual(s.running_nodes.sort(), cluster.nodes.map((n) => n.name).sort())
    const plugins = await cluster.ctl(2, ['status', '--formatter', 'json'])
    assert.match(plugins, /rabbitmq_mqtt/)
  })

  it('carries MQTT 3.1.1 QoS 1 publications on dotted DNS-name topics into a quorum queue bound on amq.topic', async () => {
    const topic = 'gw1.airquality._device.example.com'
    const c = await amqp.connect(cluster.nodes[0]?.amqpUrl as string)
    const ch = await c.createChannel()
    await ch.assertQueue('t.dotted', { durable: true, arguments: { 'x-queue-type': 'quorum' } })
    await ch.bindQueue('t.dotted', 'amq.topic', topic)
    // published to the two other members
    const pubs = await Promise.all([
      connect311(cluster.nodes[1]?.mqttUrl as string, 'p1'),
      connect311(cluster.nodes[2]?.mqttUrl as string, 'p2'),
    ])
    for (let i = 0; i < 20; i++) await (pubs[i % 2] as MqttClient).publishAsync(topic, Buffer.from(`m${i}`), { qos: 1 })
    // a topic one label off reaches nothing of ours
    await (pubs[0] as MqttClient).publishAsync(`x.${topic}`, 'other', { qos: 1 })
    await Promise.all(pubs.map((p) => p.endAsync()))
    const got: string[] = []
    for (const end = Date.now() + 10_000; got.length < 20 && Date.now() < end; ) {
      const m = await ch.get('t.dotted', { noAck: true })
      if (m === false) await new Promise((r) => setTimeout(r, 100))
      else {
        assert.equal(m.fields.routingKey, topic)
        got.push(m.content.toString())
      }
    }
    assert.deepEqual(got.sort(), Array.from({ length: 20 }, (_, i) => `m${i}`).sort())
    assert.equal(await ch.get('t.dotted'), false)
    const q = JSON.parse(await cluster.ctl(0, ['list_queues', 'name', 'type', 'members', '--formatter', 'json'])) as {
      name: string
      type: string
      members: string[]
    }[]
    const dotted = q.find((x) => x.name === 't.dotted')
    assert.equal(dotted?.type, 'quorum')
    assert.equal(dotted?.members.length, 3)
    await c.close()
  })

  it('the AMQP source declares its queue and binding, consumes, acks only when told, and a dropped ack is redelivered', async () => {
    const name = 'gw2.airquality._device.example.com'
    const src = new AmqpSource({ urls: [cluster.nodes[2]?.amqpUrl as string], name, prefetch: 4, log: quiet })
    const held: { payload: string; ack: () => void }[] = []
    await src.start((payload, ack) => held.push({ payload: payload.toString(), ack }))
    const p = await connect311(cluster.nodes[0]?.mqttUrl as string, 'p3')
    for (let i = 0; i < 10; i++) await p.publishAsync(name, `r${i}`, { qos: 1 })
    await p.endAsync()
    for (let k = 0; k < 100 && held.length < 4; k++) await new Promise((r) => setTimeout(r, 50))
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(held.length, 4, 'prefetch bounds the unacknowledged deliveries')
    for (const h of held.splice(0, 3)) h.ack()
    for (let k = 0; k < 100 && held.length < 4; k++) await new Promise((r) => setTimeout(r, 50))
    assert.equal(held.length, 4)
    await src.stop() // 4 unacknowledged: back to the queue
    const again = new AmqpSource({ urls: ['amqp://127.0.0.1:1', cluster.nodes[1]?.amqpUrl as string], name, prefetch: 100, log: quiet })
    const seen: string[] = []
    await again.start((payload, ack) => {
      seen.push(payload.toString())
      ack()
    })
    for (let k = 0; k < 100 && seen.length < 7; k++) await new Promise((r) => setTimeout(r, 50))
    assert.equal(seen.length, 7)
    assert.equal(again.stats().redelivered, 4)
    assert.equal(again.stats().url, cluster.nodes[1]?.amqpUrl, 'the refused first URL was skipped')
    await again.stop()
    assert.deepEqual(parseAmqpUrls('amqp://a:1, amqp://b:2'), ['amqp://a:1', 'amqp://b:2'])
    assert.throws(
      () => parseAmqpUrls('mqtt://a:1'),
      (e) => isDaneelError(e, 'ERR_CONFIG_INVALID'),
    )
  })

  it('chaos: 20,000 readings from 50 nodes through `daneel gateway` workers, a broker node and one of two workers SIGKILLed: 20,000 rows, none twice', async () => {
    const NODES = 50
    const PER = 400
    const TOTAL = NODES * PER
    const fleet = await startFleet(NODES, work)
    labs.push(fleet.lab)
    const pgUrl = await db.createDatabase('chaos')
    const amqpUrls = cluster.nodes.map((n) => n.amqpUrl)
    const mqttUrls = cluster.nodes.map((n) => n.mqttUrl)
    const rotated = (r: number): string[] => [...amqpUrls.slice(r), ...amqpUrls.slice(0, r)]
    // setting the cluster up: the queue and its binding exist before any node publishes
    const setup = spawnSync(process.execPath, [cliPath, 'gateway', '--source', amqpUrls.join(','), '--declare-only'], {
      env: fleet.env,
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(setup.status, 0, setup.stderr)
    assert.match(setup.stdout, new RegExp(`declared quorum queue daneel\\.${fleet.recipient.replace(/\./g, '\\.')}, bound on amq\\.topic`))
    const a = await startWorker(fleet, rotated(0), pgUrl, ['--prefetch', '200'])
    const b = await startWorker(fleet, rotated(1), pgUrl, ['--prefetch', '200'])
    const workers = { A: a, B: b }
    const metricsA = await (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`)).text()
    assert.match(metricsA, /^daneel_amqp_prefetch 200$/m)
    assert.match(metricsA, /^daneel_amqp_unacked \d+$/m)
    // each worker's counters, sampled: a SIGKILLed worker keeps its last sample
    const counts: Record<string, { stored: number; duplicates: number }> = {}
    const sample = async (): Promise<void> => {
      for (const [id, w] of Object.entries(workers)) {
        const c = await w.counts()
        if (c !== undefined) counts[id] = c
      }
    }
    const sampler = setInterval(() => void sample(), 200)
    // the publishers: 50 MQTT 3.1.1 clients spread over the three nodes, each with the others to fail over to
    const clients = await Promise.all(
      fleet.nodes.map((_, i) => connect311([...mqttUrls.slice(i % 3), ...mqttUrls.slice(0, i % 3)], `sim-${i}`)),
    )
    for (const c of clients) c.on('error', () => undefined)
    let acked = 0
    const publishOne = async (c: MqttClient, payload: string): Promise<void> => {
      // QoS 1 until PUBACK: a publication cut by a broker kill is sent again (the store makes it once)
      for (;;) {
        try {
          await Promise.race([
            c.publishAsync(fleet.recipient, payload, { qos: 1 }),
            new Promise((_, reject) => setTimeout(() => reject(new Error('no PUBACK')), 8000)),
          ])
          acked++
          return
        } catch {
          await new Promise((r) => setTimeout(r, 200))
        }
      }
    }
    const events: string[] = []
    const chaos = (async () => {
      const at = async (n: number): Promise<void> => {
        while (acked < n) await new Promise((r) => setTimeout(r, 20))
      }
      await at(TOTAL * 0.2)
      await cluster.nodes[0]?.kill()
      events.push(`broker ${cluster.nodes[0]?.name} SIGKILLed at ${acked} acked`)
      await at(TOTAL * 0.45)
      await sample()
      a.proc.kill('SIGKILL')
      events.push(`worker A SIGKILLed at ${acked} acked (its last counts: ${JSON.stringify(counts.A)})`)
      await at(TOTAL * 0.6)
      await cluster.nodes[0]?.start()
      events.push(`broker ${cluster.nodes[0]?.name} back at ${acked} acked`)
    })()
    const t0 = performance.now()
    const startAt = Date.now()
    await Promise.all(
      clients.map(async (c, i) => {
        for (let seq = 0; seq < PER; seq++) await publishOne(c, sealReading(fleet, i, seq, startAt + seq))
      }),
    )
    const publishMs = performance.now() - t0
    await chaos
    const client = new pg.Client({ connectionString: pgUrl })
    await client.connect()
    for (let k = 0; k < 600; k++) {
      const rows = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM readings')).rows[0]?.n)
      if (rows >= TOTAL) break
      await new Promise((r) => setTimeout(r, 200))
    }
    await new Promise((r) => setTimeout(r, 1000)) // anything still in flight would land now
    const stats = (
      await client.query<{ n: string; keys: string; nodes: string; summed: string }>(
        `SELECT (SELECT count(*) FROM readings) AS n, (SELECT count(*) FROM (SELECT DISTINCT node, seq FROM readings) k) AS keys,
                (SELECT count(DISTINCT node) FROM readings) AS nodes, (SELECT sum(readings) FROM nodes) AS summed`,
      )
    ).rows[0]
    const twice = (await client.query('SELECT node, seq FROM readings GROUP BY node, seq HAVING count(*) > 1')).rowCount
    await client.end()
    clearInterval(sampler)
    await sample()
    b.proc.kill('SIGTERM')
    const bExit = await new Promise<number | null>((r) => (b.proc.exitCode !== null ? r(b.proc.exitCode) : b.proc.once('exit', r)))
    await Promise.all(clients.map((c) => c.endAsync(true)))
    console.log(events.join('\n'))
    console.log(`published ${TOTAL} in ${(publishMs / 1000).toFixed(1)} s`)
    // A's last sample may miss its final commits: its share by difference is the database's word
    const aByDifference = Number(stats?.n) - (counts.B?.stored ?? 0)
    console.log(
      `worker A (SIGKILLed): stored ${counts.A?.stored} at its last sample, ${aByDifference} by difference; duplicates ${counts.A?.duplicates}`,
    )
    console.log(
      `worker B: stored ${counts.B?.stored}, duplicates ${counts.B?.duplicates} (redeliveries: A's committed but unacknowledged messages, resends around the broker kill)`,
    )
    console.log(
      `rows ${stats?.n}, distinct (node, seq) ${stats?.keys}, nodes ${stats?.nodes}, nodes.readings sum ${stats?.summed}, stored twice ${twice}`,
    )
    assert.equal(bExit, 0, b.stderr())
    assert.equal(Number(stats?.n), TOTAL)
    assert.equal(Number(stats?.keys), TOTAL)
    assert.equal(Number(stats?.summed), TOTAL)
    assert.equal(Number(stats?.nodes), NODES)
    assert.equal(twice, 0)
    assert.ok((counts.A?.stored ?? 0) > 0 && (counts.B?.stored ?? 0) > 0, 'both workers took a share of the stream')
  })

  it('device sender: MQTT_URL lists the cluster; with a node SIGKILLed it fails over, and falls back from MQTT 5 to 3.1.1', async () => {
    const topic = 'gw3.airquality._device.example.com'
    const c = await amqp.connect(cluster.nodes[1]?.amqpUrl as string)
    const ch = await c.createChannel()
    await ch.assertQueue('t.failover', { durable: true, arguments: { 'x-queue-type': 'quorum' } })
    await ch.bindQueue('t.failover', 'amq.topic', topic)
    await cluster.nodes[0]?.kill() // (it stays down: the cluster is stopped after this test)
    const outbox = new MemoryOutbox()
    for (let i = 0; i < 200; i++) void outbox.append(topic, Buffer.from(`f${i}`))
    // the dead node first: refused, then the next URL, where the MQTT 5 CONNECT is hung up on twice → 3.1.1
    const url = [cluster.nodes[0], cluster.nodes[1], cluster.nodes[2]].map((n) => n?.mqttUrl).join(',')
    const link = new MqttLink({
      url,
      clientId: 'failover-dev',
      maxMessageSize: 16384,
      backoff: new Backoff({ baseMs: 50, capMs: 300, minMs: 20 }),
    })
    const sender = new OutboxSender(link, outbox, { window: 20 })
    link.start()
    assert.ok(await sender.drained(60_000), 'the outbox drained through the surviving nodes')
    assert.equal(link.stats().protocolVersion, 4)
    assert.notEqual(link.url, cluster.nodes[0]?.mqttUrl)
    await link.stop()
    const got = new Set<string>()
    for (const end = Date.now() + 10_000; got.size < 200 && Date.now() < end; ) {
      const m = await ch.get('t.failover', { noAck: true })
      if (m === false) await new Promise((r) => setTimeout(r, 100))
      else got.add(m.content.toString())
    }
    assert.equal(got.size, 200)
    await c.close()
  })
})
