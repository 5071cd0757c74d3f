/** `daneel listen` behind MQTT 5 maximumPacketSize: 1 MB and 64 MB publications on its topic never reach it, its memory stays flat. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import mqtt from 'mqtt'
import { RX, seqOf, startListener, startSender, startWorld, TX, type World, waitFor, writeSenderScript } from './messaging-setup.js'

const TOTAL = 300
const MiB = 1024 * 1024

interface Stats {
  received: number
  rejected: Record<string, number>
  mqtt: { disconnects: number; connects: number }
  memory: { rss: number; heapUsed: number }
}

describe('messaging: oversized publications are dropped by the broker', { timeout: 120_000 }, () => {
  let w: World
  before(async () => {
    w = await startWorld('daneel-bigpub-')
  })
  after(async () => {
    await w?.stop()
  })

  it('the valid stream is delivered whole; the big ones are never received, the connection never drops, RSS does not jump', async () => {
    const rx = startListener(w, ['--client-id', 'big-rx'], 'state-rx')
    await rx.ready()
    // a plain MQTT.js client: any publisher the broker admits can send this much
    const tap = await mqtt.connectAsync(w.broker.url, { protocolVersion: 5, clientId: 'big-tap' })
    let valid: Buffer | undefined
    tap.on('message', (_t, p) => {
      valid ??= Buffer.from(p)
    })
    await tap.subscribeAsync(RX, { qos: 1 })
    const tx = startSender(w, writeSenderScript(w), TX, [RX, TOTAL, 10, 10])
    await waitFor(() => rx.lines.length >= 50 && valid !== undefined, 30_000, `50 delivered: ${rx.stderr()} ${tx.out()}`)
    const base = (await rx.stats()) as unknown as Stats

    for (const n of [MiB, 64 * MiB, MiB]) await tap.publishAsync(RX, Buffer.alloc(n, 0x41), { qos: 1 })
    // then a replay of a valid message: once it is counted, the broker has dealt with everything queued before it
    await tap.publishAsync(RX, valid as Buffer, { qos: 1 })
    await waitFor(() => tx.out().includes('done'), 60_000, `sender done (${tx.out()})`)
    await waitFor(() => rx.lines.length >= TOTAL, 30_000, `${TOTAL} delivered (have ${rx.lines.length})`)
    let end = (await rx.stats()) as unknown as Stats
    for (let i = 0; i < 50 && (end.rejected.ERR_REPLAY ?? 0) < 1; i++) {
      await new Promise((r) => setTimeout(r, 100))
      end = (await rx.stats()) as unknown as Stats
    }
    await tap.endAsync()

    assert.equal(new Set(rx.lines.map(seqOf)).size, TOTAL)
    assert.equal(end.rejected.ERR_REPLAY, 1, JSON.stringify(end.rejected))
    assert.equal(end.received, TOTAL + 1, 'the stream and the replay, none of the three big publications')
    assert.equal(end.rejected.ERR_MESSAGE_TOO_LARGE, undefined, 'nothing oversized reached the opener either')
    assert.equal(end.mqtt.disconnects, 0, 'dropped by the broker, not by MQTT.js after buffering')
    const growth = end.memory.rss - base.memory.rss
    // one 64 MiB packet buffered by MQTT.js would add at least 64 MiB
    assert.ok(growth < 32 * MiB, `RSS grew ${(growth / MiB).toFixed(1)} MiB`)
    process.stderr.write(
      `# packet size: rss ${(base.memory.rss / MiB).toFixed(1)} -> ${(end.memory.rss / MiB).toFixed(1)} MiB, heap ${(base.memory.heapUsed / MiB).toFixed(1)} -> ${(end.memory.heapUsed / MiB).toFixed(1)} MiB\n`,
    )
  })
})
