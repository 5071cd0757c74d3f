/** The shape check a message passes before it may join a batch: each rule refuses its own kind of bad message. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { incomingProblem } from '../../gateway/store/check.js'
import type { IncomingMessage } from '../../gateway/store/types.js'
import { legacy, reading, status } from './store-suite.js'

it('accepts bound readings, unbound readings and status messages', () => {
  assert.equal(incomingProblem(reading('a.example', 0)), undefined)
  assert.equal(incomingProblem(legacy('a.example', 'bytes')), undefined)
  assert.equal(incomingProblem(status('a.example', 1, { health: 'ok' })), undefined)
})

it('names what is wrong with a malformed message', () => {
  const bad: [Partial<IncomingMessage> | Record<string, unknown>, RegExp][] = [
    [{ node: '' }, /node/],
    [{ node: 'x'.repeat(254) }, /node/],
    [{ seq: -1 }, /seq/],
    [{ seq: 1.5 }, /seq/],
    [{ bound: false }, /bound/],
    [{ digest: 'A'.repeat(64) }, /digest/],
    [{ time: Number.NaN }, /time/],
    [{ receivedAt: 1.5 }, /receivedAt/],
    [{ auth: 'trust-me' }, /auth/],
    [{ profile: '' }, /profile/],
    [{ sensor: 7 }, /sensor/],
    [{ model: {} }, /model/],
    [{ values: null }, /values/],
    [{ values: [1] }, /values/],
    [{ values: { pm25: '12' } }, /"pm25"/],
    [{ values: { pm25: Number.POSITIVE_INFINITY } }, /"pm25"/],
    [{ status: [] }, /status/],
  ]
  for (const [over, re] of bad)
    assert.match(incomingProblem({ ...reading('a.example', 1), ...over } as IncomingMessage) ?? 'accepted', re, JSON.stringify(over))
})
