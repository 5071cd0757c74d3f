/** Opened message → IncomingMessage: claims under `r` and at the top level, status messages, unbound payloads, refusals. */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { messageDigest, toIncoming } from '../../gateway/incoming.js'
import { incomingProblem } from '../../gateway/store/check.js'
import { isDaneelError } from '../../src/errors.js'
import type { OpenedMessage } from '../../src/message/open.js'

const RAW = new TextEncoder().encode('eyJhbGciOiJFQ0RILUVTIn0..sealed')
const AT = Date.UTC(2026, 11, 2, 12, 0, 0)
const base = { from: 'n1.airquality._device.example.test', auth: 'dnssec', profile: 'compact', serialization: 'compact' } as const
const bound = (claims: Record<string, unknown>): OpenedMessage =>
  ({ ...base, claims: { aud: 'gw._device.example.test', iat: 1_796_212_800, seq: 41, ...claims } }) as OpenedMessage

const refused = (fn: () => unknown): void => assert.throws(fn, (e: unknown) => isDaneelError(e) && e.code === 'ERR_JWT_CLAIMS')

describe('toIncoming', () => {
  it('a reading under the one claim r', () => {
    const m = toIncoming(bound({ r: { sensor: 'pms5003-0', model: 'PMS5003', values: { pm25: 8.5, pm10: 12 } } }), RAW, AT)
    assert.deepEqual(m, {
      node: base.from,
      digest: createHash('sha256').update(RAW).digest('hex'),
      receivedAt: AT,
      auth: 'dnssec',
      profile: 'compact',
      seq: 41,
      bound: true,
      time: 1_796_212_800_000,
      sensor: 'pms5003-0',
      model: 'PMS5003',
      values: { pm25: 8.5, pm10: 12 },
    })
    assert.equal(incomingProblem(m), undefined)
  })

  it('a window reading (device/duty.ts): the trimmed means in values are stored, the window beside them is not a value', () => {
    const values = { pm25: 12.3, pm10: 20.5 }
    const window = { start: 1_796_212_770_000, end: 1_796_212_780_000, n: 10, min: { pm25: 11 }, max: { pm25: 14 }, median: { pm25: 12.5 } }
    const m = toIncoming(bound({ r: { sensor: 'sds', model: 'sds011', values, window } }), RAW, AT)
    assert.deepEqual([m.sensor, m.model, m.values], ['sds', 'sds011', values])
    assert.equal(incomingProblem(m), undefined)
    assert.deepEqual(m, toIncoming(bound({ r: { sensor: 'sds', model: 'sds011', values } }), RAW, AT))
  })

  it('the same reading as top-level members (what devices seal today) maps to the same row', () => {
    const r = { sensor: 'pms5003-0', model: 'PMS5003', values: { pm25: 8.5, pm10: 12 } }
    assert.deepEqual(toIncoming(bound(r), RAW, AT), toIncoming(bound({ r }), RAW, AT))
  })

  it('status messages, under r or at the top level', () => {
    const status = { sensor: 'pms5003-0', health: 'degraded', consecutiveFaults: 3 }
    for (const claims of [{ r: { status } }, { status }]) {
      const m = toIncoming(bound(claims), RAW, AT)
      assert.deepEqual([m.status, m.sensor, m.model, m.values, m.seq], [status, null, null, {}, 41])
      assert.equal(incomingProblem(m), undefined)
    }
  })

  it('a flat object of numbers is a reading without a sensor id (registered claims are not values)', () => {
    const m = toIncoming(bound({ pm25: 12.3, note: 'kept out', exp: 1_796_213_000 }), RAW, AT)
    assert.deepEqual([m.sensor, m.model, m.values], [null, null, { pm25: 12.3 }])
  })

  it('an unbound message (no claims): bound false, seq null, received time, the digest as replay key', () => {
    const payload = new TextEncoder().encode(JSON.stringify({ sensor: 's0', values: { pm25: 3 } }))
    const opened = { ...base, profile: 'valimail', payload } as OpenedMessage
    const m = toIncoming(opened, RAW, AT)
    assert.deepEqual([m.bound, m.seq, m.time, m.sensor, m.values, m.profile], [false, null, AT, 's0', { pm25: 3 }, 'valimail'])
    assert.equal(m.digest, messageDigest(RAW))
    assert.equal(incomingProblem(m), undefined)
    refused(() => toIncoming({ ...opened, payload: new TextEncoder().encode('not json') }, RAW, AT))
    refused(() => toIncoming({ ...opened, payload: new TextEncoder().encode('[1,2]') }, RAW, AT))
  })

  it('refuses what holds neither values nor a status, and malformed members', () => {
    refused(() => toIncoming(bound({ b: 'aGVsbG8' }), RAW, AT)) // a text payload: nothing to store
    refused(() => toIncoming(bound({ r: 5 }), RAW, AT))
    refused(() => toIncoming(bound({ r: { status: 'ok' } }), RAW, AT))
    refused(() => toIncoming(bound({ r: { sensor: 's', values: [1] } }), RAW, AT))
    refused(() => toIncoming(bound({ r: { sensor: 's', values: { pm25: '8' } } }), RAW, AT))
    refused(() => toIncoming(bound({ r: { sensor: 's', values: {} } }), RAW, AT))
    refused(() => toIncoming(bound({ r: { sensor: 7, values: { pm25: 1 } } }), RAW, AT))
    refused(() => toIncoming(bound({ r: { sensor: 'x'.repeat(129), values: { pm25: 1 } } }), RAW, AT))
    refused(() => toIncoming(bound({ seq: -1, pm25: 1 }), RAW, AT))
    refused(() => toIncoming(bound({ iat: 'now', pm25: 1 }), RAW, AT))
  })
})
