/** Property tests (fast-check): TLSA, x5u and name parsers only ever return a value or throw a DaneelError. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { parseIdentityName, parseX5u } from '../../../src/dane/names.js'
import { decodeTlsaRdata, encodeTlsaRdata, formatTlsaRdata, parseTlsaRdata, tlsaEqual } from '../../../src/dane/tlsa.js'
import { isDaneelError } from '../../../src/errors.js'

function typedOrValue(fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    assert.ok(isDaneelError(err), `not a DaneelError: ${String(err)}`)
  }
}

describe('parsers never crash', () => {
  it('parseTlsaRdata on arbitrary text and on mutated records', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => typedOrValue(() => parseTlsaRdata(s))),
      { numRuns: 2000 },
    )
    const good = '3 1 1 F97D2FE7AB87B5DEA86CC5B45F6CB9766415D3D69BFA6B1079AD9785616F0C89'
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (i, c) =>
        typedOrValue(() => parseTlsaRdata(good.slice(0, i) + c + good.slice(i + 1))),
      ),
      { numRuns: 2000 },
    )
  })
  it('decodeTlsaRdata on arbitrary bytes; valid records round-trip through wire and text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => typedOrValue(() => decodeTlsaRdata(b))),
      { numRuns: 2000 },
    )
    const rec = fc
      .record({
        usage: fc.constantFrom(0, 1, 2, 3, 4),
        selector: fc.constantFrom(0, 1),
        matchingType: fc.constantFrom(0, 1, 2),
      })
      .chain((h) =>
        fc
          .uint8Array({
            minLength: h.matchingType === 1 ? 32 : h.matchingType === 2 ? 64 : 1,
            maxLength: h.matchingType === 1 ? 32 : h.matchingType === 2 ? 64 : 300,
          })
          .map((data) => ({ ...h, data })),
      )
    fc.assert(
      fc.property(rec, (r) => {
        const t = r as Parameters<typeof encodeTlsaRdata>[0]
        assert.ok(tlsaEqual(decodeTlsaRdata(encodeTlsaRdata(t)), t))
        assert.ok(tlsaEqual(parseTlsaRdata(formatTlsaRdata(t)), t))
      }),
      { numRuns: 500 },
    )
  })
  it('parseX5u and parseIdentityName on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        typedOrValue(() => parseX5u(s))
        typedOrValue(() => parseIdentityName(s))
      }),
      { numRuns: 3000 },
    )
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,2}\._device(\.[a-z0-9]{1,10}){1,3}$/), (name) => {
        assert.equal(parseX5u(`dns://${name}?type=TLSA`), name)
        assert.equal(parseIdentityName(name), name)
      }),
      { numRuns: 500 },
    )
  })
})
