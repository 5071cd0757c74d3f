/** ByteWriter against Node's own encoders (base64url, UTF-8, decimal): the same bytes, in one reused buffer. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ByteWriter } from '../../../src/jose/byte-writer.js'

describe('ByteWriter', () => {
  it('writes base64url exactly as Buffer#toString("base64url"), for every length and any sub-range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1)
        const end = start + (bytes.length - start === 0 ? 0 : b % (bytes.length - start + 1))
        const w = new ByteWriter(8).ascii('x.').b64url(bytes, start, end)
        assert.equal(w.latin1(), `x.${Buffer.from(bytes.subarray(start, end)).toString('base64url')}`)
      }),
      { numRuns: 1000, seed: 3 },
    )
  })

  it('writes UTF-8 as Buffer.from(s, "utf8") does, astral and lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const w = new ByteWriter(4).utf8(s)
        assert.deepEqual(w.view(), Buffer.from(s, 'utf8'))
      }),
      { numRuns: 500, seed: 4 },
    )
    assert.deepEqual(new ByteWriter(1).utf8('µg/m³ 😷').view(), Buffer.from('µg/m³ 😷', 'utf8'))
  })

  it('writes non-negative safe integers as String(n) does', () => {
    for (const n of [0, 1, 9, 10, 99, 100, 1_764_000_000, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      assert.equal(new ByteWriter(1).uint(n).latin1(), String(n))
    }
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => assert.equal(new ByteWriter(2).uint(n).latin1(), String(n))),
      { numRuns: 500, seed: 5 },
    )
  })

  it('grows past its first size, keeps what it wrote, and starts over on reset()', () => {
    const w = new ByteWriter(4)
    const big = 'a'.repeat(40_000)
    w.ascii('{').ascii(big).ascii('}')
    assert.equal(w.length, 40_002)
    assert.equal(w.latin1(), `{${big}}`)
    w.reset().ascii('ok')
    assert.equal(w.latin1(), 'ok')
    assert.deepEqual(w.view(0, 1), Buffer.from('o'))
  })

  it('views are of the bytes written, and latin1() is a copy that outlives the next reset()', () => {
    const w = new ByteWriter(16).ascii('abc')
    const copy = w.latin1()
    const view = w.view()
    w.reset().ascii('xyz')
    assert.equal(copy, 'abc')
    assert.equal(view.toString('latin1'), 'xyz', 'a view is of the reused buffer, as documented')
  })
})
