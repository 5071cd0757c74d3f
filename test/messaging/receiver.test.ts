/** Receiver orchestration with a scripted opener (the real opener runs in test/integration/messaging*.test.ts). */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { describe, it } from 'node:test'
import { directoryResolver, Receiver, type ReceiverOutput } from '../../messaging/receiver.js'
import type { PeerDirectory } from '../../src/dane/discover.js'
import { DaneelError } from '../../src/errors.js'
import type { OpenedMessage, Opener } from '../../src/message/open.js'

/** A test double for src/message/open.ts: 'ok:N' opens, 'bad:CODE' rejects with CODE, 'boom' throws a TypeError. */
function scriptedOpener(delayMs = 0): Opener & { concurrent: number; peak: number } {
  const o = {
    concurrent: 0,
    peak: 0,
    async open(msg: Uint8Array | string): Promise<OpenedMessage> {
      o.concurrent++
      o.peak = Math.max(o.peak, o.concurrent)
      try {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
        const text = Buffer.from(msg as Uint8Array).toString()
        if (text === 'boom') throw new TypeError('internal failure')
        if (text.startsWith('bad:')) throw new DaneelError(text.slice(4) as 'ERR_REPLAY', 'rejected')
        return { from: 'dev.example', claims: { n: Number(text.slice(3)) }, auth: 'dnssec', profile: 'compact', serialization: 'compact' }
      } finally {
        o.concurrent--
      }
    },
  }
  return o
}

class Sink extends EventEmitter implements ReceiverOutput {
  lines: string[] = []
  full = false
  write(line: string): boolean {
    this.lines.push(line)
    return !this.full
  }
}

describe('Receiver', () => {
  it('prints one JSON line per opened message and counts rejections by code; bad messages never stop the rest', async () => {
    const out = new Sink()
    const r = new Receiver({ opener: scriptedOpener(), maxMessageSize: 100, out, now: () => Date.UTC(2026, 10, 25) })
    const inputs = ['ok:1', 'bad:ERR_REPLAY', 'boom', 'ok:2', 'x'.repeat(101), 'bad:ERR_SENDER_UNTRUSTED', 'ok:3', 'bad:ERR_REPLAY']
    for (const m of inputs) r.push(Buffer.from(m), () => {})
    await r.idle()
    assert.deepEqual(out.lines.map((l) => JSON.parse(l).claims.n).sort(), [1, 2, 3])
    assert.deepEqual(JSON.parse(out.lines[0] as string), {
      from: 'dev.example',
      claims: { n: 1 },
      auth: 'dnssec',
      receivedAt: '2026-11-25T00:00:00.000Z',
    })
    const s = r.stats()
    assert.equal(s.received, 8)
    assert.equal(s.opened, 3)
    assert.deepEqual(s.rejected, { ERR_REPLAY: 2, ERR_INTERNAL: 1, ERR_MESSAGE_TOO_LARGE: 1, ERR_SENDER_UNTRUSTED: 1 })
  })

  it('bounds concurrent opens and holds acknowledgements while the queue is full (backpressure)', async () => {
    const opener = scriptedOpener(5)
    const r = new Receiver({ opener, maxMessageSize: 100, out: new Sink(), concurrency: 3, queueLimit: 10 })
    let acked = 0
    let i = 0
    // like MQTT.js: the next publication is read only after the previous one was acknowledged
    const next = (): void => {
      if (i >= 50) return
      const k = i++
      r.push(Buffer.from(`ok:${k}`), () => {
        acked++
        setImmediate(next)
      })
    }
    next()
    // no fixed sleep: on a loaded machine 30 ms could pass before the queue fills (the counter is cumulative)
    while (r.stats().blockedAcks === 0 && acked < 50) await new Promise((res) => setTimeout(res, 5))
    assert.ok(r.stats().blockedAcks > 0, 'the queue filled and an ack was held')
    while (acked < 50) await new Promise((res) => setTimeout(res, 5))
    await r.idle()
    assert.ok(r.stats().queueHigh <= 10, `queue reached ${r.stats().queueHigh}`)
    assert.equal(opener.peak, 3)
    assert.equal(r.stats().opened, 50)
  })

  it('stops opening while the output does not drain, and resumes on drain', async () => {
    const out = new Sink()
    out.full = true
    const r = new Receiver({ opener: scriptedOpener(), maxMessageSize: 100, out, concurrency: 1 })
    for (let i = 0; i < 20; i++) r.push(Buffer.from(`ok:${i}`), () => {})
    await new Promise((res) => setTimeout(res, 20))
    assert.equal(out.lines.length, 1, 'one line written, then it waits for drain')
    out.full = false
    out.emit('drain')
    await r.idle()
    assert.equal(out.lines.length, 20)
  })
})

describe('directoryResolver', () => {
  it('never looks up a sender outside the trusted domains', async () => {
    const looked: string[] = []
    const dir: PeerDirectory = {
      lookup: async (name) => {
        looked.push(name)
        return {
          name,
          spki: new Uint8Array([1]),
          spkis: [new Uint8Array([1]), new Uint8Array([2])],
          certs: [],
          auth: 'dnssec',
          records: [],
          expiresAt: 0,
        }
      },
      forget: () => {},
    }
    const resolve = directoryResolver(dir, ['example.com'])
    assert.deepEqual(await resolve('a._device.example.com'), {
      spki: new Uint8Array([1]),
      spkis: [new Uint8Array([1]), new Uint8Array([2])],
      auth: 'dnssec',
    })
    await assert.rejects(resolve('a._device.evil.com'), { code: 'ERR_SENDER_UNTRUSTED' })
    await assert.rejects(resolve('example.com.evil.com'), { code: 'ERR_SENDER_UNTRUSTED' })
    assert.deepEqual(looked, ['a._device.example.com'])
  })
})
