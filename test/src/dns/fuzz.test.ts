/** Garbage never crashes: random and mutated messages give ERR_DNS_FORMAT or a verdict, never another exception. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { rdataToText } from '../../../src/dns/rdata.js'
import { decodeMessage } from '../../../src/dns/wire.js'
import { isDaneelError } from '../../../src/errors.js'
import { throwsCode } from '../../../testkit/assert-code.js'
import { loadLabFixture, replayResolver, replayTransport } from '../../../testkit/dns-replay.js'

const fx = loadLabFixture()
const replies = Object.values(fx.exchanges).map((b) => new Uint8Array(Buffer.from(b, 'base64')))

const decodeOrFormatError = (b: Uint8Array): void => {
  try {
    const m = decodeMessage(b)
    for (const rr of [...m.answers, ...m.authorities, ...m.additionals]) rdataToText(rr)
  } catch (err) {
    assert.ok(isDaneelError(err, 'ERR_DNS_FORMAT'), String(err))
  }
}

describe('garbage in', () => {
  it('random bytes: decoded or ERR_DNS_FORMAT', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (b) => decodeOrFormatError(b)),
      { numRuns: 3000 },
    )
  })

  it('recorded replies with random bytes changed or cut: decoded or ERR_DNS_FORMAT', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: replies.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        (i, edits, cut) => {
          const b = new Uint8Array(replies[i] as Uint8Array)
          for (const [pos, v] of edits) b[pos % b.length] = v
          decodeOrFormatError(b.subarray(0, Math.max(0, b.length - (cut % 40))))
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('a compression loop is rejected, not followed forever', () => {
    const b = new Uint8Array([0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])
    throwsCode(() => decodeMessage(b), 'ERR_DNS_FORMAT')
  })

  it('the validator given mutated replies answers with a status or a DaneelError, never crashes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: fx.cases.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }), async (ci, pos, v) => {
        const c = fx.cases[ci] as (typeof fx.cases)[number]
        const transport = replayTransport(fx.exchanges)
        transport.mutate = (_k, bytes) => {
          const b = new Uint8Array(bytes)
          const p = 12 + (pos % Math.max(1, b.length - 12))
          b[p] = v
          return b
        }
        const r = replayResolver(fx, transport, { cache: null, retries: 0 })
        try {
          const a = await r.query(c.name, c.type === 'A' ? 1 : 52)
          assert.ok(['secure', 'insecure', 'bogus', 'indeterminate'].includes(a.status))
        } catch (err) {
          assert.ok(isDaneelError(err), String(err))
        }
      }),
      { numRuns: 400 },
    )
  })
})
