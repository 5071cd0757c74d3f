/** Hostile messages mid-stream: garbage, oversized, mis-addressed, untrusted-domain, replayed; each counted, the stream whole. */
import assert from 'node:assert/strict'
import { createPublicKey, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import mqtt from 'mqtt'
import { getProvider } from '../../src/crypto/get-provider.js'
import { createIdentity, loadIdentity } from '../../src/identity/store.js'
import { createSealer } from '../../src/message/seal.js'
import { RX, seqOf, startListener, startSender, startWorld, TX, type World, waitFor, writeSenderScript } from './messaging-setup.js'

const TOTAL = 1500

describe('messaging: rejections mid-stream', { timeout: 120_000 }, () => {
  let w: World
  before(async () => {
    w = await startWorld('daneel-reject-')
  })
  after(async () => {
    await w?.stop()
  })

  it('rejects and counts each bad message by reason; the valid stream around them is delivered whole', async () => {
    const rx = startListener(w, ['--client-id', 'rej-rx', '--max-message-size', '16384'], 'state-rx')
    await rx.ready()
    // A tap on the topic records a valid message to replay later.
    const tap = await mqtt.connectAsync(w.broker.url, { protocolVersion: 5, clientId: 'tap' })
    const seen: Buffer[] = []
    tap.on('message', (_t, p) => seen.length < 5 && seen.push(Buffer.from(p)))
    await tap.subscribeAsync(RX, { qos: 1 })

    const tx = startSender(w, writeSenderScript(w), TX, [RX, TOTAL, 10, 10])
    await waitFor(() => rx.lines.length >= 300, 30_000, `300 delivered: rx ${rx.stderr()} tx ${tx.out()}`)

    const provider = getProvider('node')
    const rxKey = loadIdentity(w.cryptoPath, RX)
    const rxSpki = new Uint8Array(createPublicKey(rxKey.privateKey).export({ type: 'spki', format: 'der' }))
    const txKey = loadIdentity(w.cryptoPath, TX).privateKey
    // mis-addressed: encrypted to our key (anyone can), but the signed aud names someone else
    const misaddressed = createSealer({
      provider,
      senderName: TX,
      senderKey: txKey,
      recipientName: 'other.gateway._device.example.test',
      recipientSpki: rxSpki,
    }).seal({ n: -1 }, { now: Date.now(), seq: 1e9 })
    // untrusted: a sender outside TRUSTED_DOMAINS (its name is never looked up, so it needs no DNS record)
    const evil = createIdentity({ cryptoPath: w.cryptoPath, daneId: 'x._device.insecure.test' }).paths
    const untrusted = createSealer({
      provider,
      senderName: 'x._device.insecure.test',
      senderKey: loadIdentity(w.cryptoPath, 'x._device.insecure.test').privateKey,
      recipientName: RX,
      recipientSpki: rxSpki,
    }).seal({ n: -2 }, { now: Date.now(), seq: 1 })
    assert.ok(evil.key.length > 0)
    const bad: [string, Buffer][] = [
      ['garbage', randomBytes(300)],
      // over MAX_MESSAGE_SIZE, but within the MQTT packet bound (+1 KiB header room), so it reaches the opener's check
      ['oversized', Buffer.alloc(16_900, 0x41)],
      ['misaddressed', Buffer.from(misaddressed)],
      ['untrusted', Buffer.from(untrusted)],
      ['replayed', seen[2] as Buffer],
    ]
    for (const [, payload] of bad) await tap.publishAsync(RX, payload, { qos: 1 })

    await waitFor(() => tx.out().includes('done'), 60_000, `sender done (${tx.out()})`)
    await waitFor(() => rx.lines.length >= TOTAL, 30_000, `${TOTAL} delivered (have ${rx.lines.length})`)
    await new Promise((r) => setTimeout(r, 300))
    const stats = await rx.stats()
    await tap.endAsync()

    const seqs = rx.lines.map(seqOf)
    assert.equal(seqs.length, TOTAL)
    assert.equal(new Set(seqs).size, TOTAL)
    assert.ok(
      seqs.every((n) => n >= 1 && n <= TOTAL),
      'nothing but the valid stream was printed',
    )
    const r = stats.rejected
    assert.equal(r.ERR_MESSAGE_TOO_LARGE, 1, JSON.stringify(r))
    assert.equal(r.ERR_JWT_AUDIENCE, 1, JSON.stringify(r))
    assert.equal(r.ERR_SENDER_UNTRUSTED, 1, JSON.stringify(r))
    assert.ok((r.ERR_REPLAY ?? 0) >= 1, JSON.stringify(r))
    assert.equal(r.ERR_INTERNAL, undefined, 'no bad message reached an internal error')
    // the garbage is refused by the parser, under one code of its own
    const garbageCodes = Object.keys(r).filter(
      (c) => !['ERR_MESSAGE_TOO_LARGE', 'ERR_JWT_AUDIENCE', 'ERR_SENDER_UNTRUSTED', 'ERR_REPLAY'].includes(c),
    )
    assert.equal(garbageCodes.length, 1, JSON.stringify(r))
    assert.equal(r[garbageCodes[0] as string], 1)
    assert.equal(stats.received, TOTAL + bad.length + ((r.ERR_REPLAY ?? 0) - 1))
    process.stderr.write(`# reject: ${JSON.stringify(r)}\n`)
  })
})
