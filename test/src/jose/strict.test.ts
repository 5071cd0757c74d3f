/** Strict base64url (one encoding per byte string) and duplicate-rejecting JSON, the two parsers under every header. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { b64urlDecode, b64urlEncode, isB64url } from '../../../src/jose/b64url.js'
import { findDuplicateMember, parseJsonObject } from '../../../src/jose/json.js'

describe('base64url', () => {
  it('round-trips any bytes, and accepts exactly the canonical encoding (as Node re-encodes it)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const s = b64urlEncode(bytes)
        assert.deepEqual(new Uint8Array(b64urlDecode(s)), bytes)
        assert.equal(isB64url(s), true)
      }),
      { numRuns: 300, seed: 1 },
    )
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'AQgw_-=+/ .Z9'.split('')), maxLength: 12 }), (s) => {
        // Canonical iff decoding then encoding gives the same text back.
        const canonical = /^[A-Za-z0-9_-]*$/.test(s) && s.length % 4 !== 1 && Buffer.from(s, 'base64url').toString('base64url') === s
        assert.equal(isB64url(s), canonical, JSON.stringify(s))
      }),
      { numRuns: 2000, seed: 2 },
    )
  })
  it('b64urlDecode (a native round trip) accepts exactly what isB64url (the character check) accepts', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'AQgw_-=+/ .Z9\n\u00e9\u0100'.split('')), maxLength: 12 }), (s) => {
        let decoded = true
        try {
          b64urlDecode(s)
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'ERR_B64URL_INVALID')
          decoded = false
        }
        assert.equal(decoded, isB64url(s), JSON.stringify(s))
      }),
      { numRuns: 5000, seed: 3 },
    )
  })
  it('rejects padding, whitespace, the standard alphabet and spare bits', () => {
    for (const bad of ['QQ==', 'QQ ', ' QQ', 'Q+', 'Q/', 'QR', 'QUF', 'Q'])
      assert.throws(() => b64urlDecode(bad), { code: 'ERR_B64URL_INVALID' }, bad)
    assert.equal(b64urlDecode('QQ').toString(), 'A')
  })
})

describe('strict JSON', () => {
  it('finds duplicate member names at any depth, also when escaped differently', () => {
    assert.equal(findDuplicateMember('{"a":1,"a":2}'), 'a')
    assert.equal(findDuplicateMember('{"a":1,"\\u0061":2}'), 'a')
    assert.equal(findDuplicateMember('{"x":{"k":1,"k":2}}'), 'k')
    assert.equal(findDuplicateMember('{"x":[{"k":1},{"k":2}],"y":"\\"k\\":"}'), undefined)
    assert.equal(findDuplicateMember('{"a":{"a":1}}'), undefined)
  })
  it("parses only objects; a duplicate is ERR_JOSE_HEADER, anything else the caller's code", () => {
    assert.deepEqual(parseJsonObject('{"alg":"ES256"}', 'h', 'ERR_JWS_INVALID'), { alg: 'ES256' })
    assert.throws(() => parseJsonObject('{"alg":"ES256","alg":"none"}', 'h', 'ERR_JWS_INVALID'), { code: 'ERR_JOSE_HEADER' })
    for (const bad of ['[]', 'null', '"x"', '{', ''])
      assert.throws(() => parseJsonObject(bad, 'h', 'ERR_JWS_INVALID'), { code: 'ERR_JWS_INVALID' })
  })
  it('agrees with a reference on random objects with possibly repeated keys', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'é', 'a"'), fc.jsonValue({ maxDepth: 1 })), { maxLength: 5 }),
        (pairs) => {
          const text = `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`
          const keys = pairs.map(([k]) => k)
          const dup = keys.find((k, i) => keys.indexOf(k) !== i)
          const found = findDuplicateMember(text)
          assert.equal(found === undefined, dup === undefined, text)
        },
      ),
      { numRuns: 500, seed: 3 },
    )
  })
})

describe('nesting cap', () => {
  it("accepts 32 levels and refuses 33 with the caller's code", () => {
    const nest = (n: number) => `{"a":${'['.repeat(n - 1)}1${']'.repeat(n - 1)}}`
    assert.deepEqual(Object.keys(parseJsonObject(nest(32), 'claims', 'ERR_JWT_CLAIMS')), ['a'])
    assert.throws(() => parseJsonObject(nest(33), 'claims', 'ERR_JWT_CLAIMS'), { code: 'ERR_JWT_CLAIMS' })
    assert.throws(() => parseJsonObject(nest(5000), 'claims', 'ERR_JWT_CLAIMS'), { code: 'ERR_JWT_CLAIMS' })
  })
})
