/** PEM (RFC 7468): blocks by label, openssl's text between blocks, and typed errors for damaged armour. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fromHex, toHex } from '../../../src/x509/hex.js'
import { pemBlocks, pemDecode, pemEncode } from '../../../src/x509/pem.js'
import { throwsCode } from '../../../testkit/assert-code.js'
import { opensslOk } from '../../../testkit/openssl.js'

describe('PEM', () => {
  it('round-trips and wraps base64 at 64 columns', () => {
    const der = new Uint8Array(200).map((_, i) => i)
    const pem = pemEncode(der, 'CERTIFICATE')
    assert.ok(pem.split('\n').every((l) => l.length <= 64))
    assert.deepEqual(pemDecode(pem, 'CERTIFICATE'), [der])
  })
  it('reads what openssl writes (base64 of the same bytes)', () => {
    const der = fromHex('3003020101')
    const theirs = opensslOk(['base64'], { input: der })
    assert.deepEqual(pemDecode(`-----BEGIN X-----\n${theirs}-----END X-----\n`, 'X'), [der])
  })
  it('returns every block of a label and skips text between blocks', () => {
    const a = pemEncode(fromHex('0102'), 'CERTIFICATE')
    const b = pemEncode(fromHex('0304'), 'CERTIFICATE')
    const k = pemEncode(fromHex('0506'), 'PRIVATE KEY')
    const text = `subject=CN = x\n${a}issuer=y\n${k}\n${b}`
    assert.deepEqual(
      pemDecode(text, 'CERTIFICATE').map((d) => toHex(d)),
      ['0102', '0304'],
    )
    assert.deepEqual(
      pemBlocks(text).map((x) => x.label),
      ['CERTIFICATE', 'PRIVATE KEY', 'CERTIFICATE'],
    )
  })
  const bad: [string, string][] = [
    ['no block', 'hello'],
    ['missing END', '-----BEGIN CERTIFICATE-----\nAAAA\n'],
    ['mismatched labels', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n'],
    ['bad base64', '-----BEGIN CERTIFICATE-----\nA*AA\n-----END CERTIFICATE-----\n'],
    ['base64 length', '-----BEGIN CERTIFICATE-----\nAAAAA\n-----END CERTIFICATE-----\n'],
    ['empty body', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'],
    ['legacy headers', '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----\n'],
    ['wrong label', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'],
  ]
  for (const [label, text] of bad) {
    it(`${label} is ERR_PEM_INVALID`, () => {
      throwsCode(() => pemDecode(text, 'CERTIFICATE'), 'ERR_PEM_INVALID')
    })
  }
  it('hex: odd length and non-hex are ERR_HEX_INVALID; whitespace is allowed', () => {
    assert.equal(toHex(fromHex('AB cd\n0f')), 'abcd0f')
    throwsCode(() => fromHex('abc'), 'ERR_HEX_INVALID')
    throwsCode(() => fromHex('zz'), 'ERR_HEX_INVALID')
    assert.equal(toHex(fromHex('0a0b'), ':'), '0a:0b')
  })
})
