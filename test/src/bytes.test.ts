/** src/bytes.ts: concatenation, public-data equality and the constant-time comparison. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { bytesEqual, concatBytes, constantTimeEqual } from '../../src/bytes.js'

describe('concatBytes', () => {
  test('joins parts in order, number arrays as octets, views by their own window', () => {
    const backing = Uint8Array.of(9, 9, 5, 6, 9)
    const out = concatBytes(Uint8Array.of(1, 2), [3, 4], backing.subarray(2, 4), new Uint8Array(0))
    assert.deepEqual([...out], [1, 2, 3, 4, 5, 6])
    assert.equal(out.buffer.byteLength, 6, 'a fresh array, not a view into a part')
  })
  test('no parts or only empty parts give an empty array; the result never aliases a part', () => {
    assert.equal(concatBytes().length, 0)
    assert.equal(concatBytes(new Uint8Array(0), []).length, 0)
    const one = Uint8Array.of(7)
    const copy = concatBytes(one)
    copy[0] = 8
    assert.equal(one[0], 7)
  })
})

describe('bytesEqual and constantTimeEqual', () => {
  const cases: [number[], number[], boolean][] = [
    [[], [], true],
    [[1, 2, 3], [1, 2, 3], true],
    [[1, 2, 3], [1, 2, 4], false],
    [[1, 2, 3], [0, 2, 3], false],
    [[1, 2], [1, 2, 3], false],
    [[0], [], false],
  ]
  for (const [a, b, want] of cases) {
    test(`[${a}] vs [${b}] is ${want}`, () => {
      assert.equal(bytesEqual(Uint8Array.from(a), Uint8Array.from(b)), want)
      assert.equal(bytesEqual(Uint8Array.from(b), Uint8Array.from(a)), want)
      assert.equal(constantTimeEqual(Uint8Array.from(a), Uint8Array.from(b)), want)
      assert.equal(constantTimeEqual(Uint8Array.from(b), Uint8Array.from(a)), want)
    })
  }
  test('compares the viewed bytes of subarrays, not their backing buffers', () => {
    const x = Uint8Array.of(0, 1, 2, 3)
    const y = Uint8Array.of(1, 2, 3, 9)
    assert.ok(bytesEqual(x.subarray(1), y.subarray(0, 3)))
    assert.ok(constantTimeEqual(x.subarray(1), y.subarray(0, 3)))
    assert.ok(bytesEqual(x, x))
  })
})
