/** TLSA presentation and wire formats (RFC 6698 §2.2, RFC 7218), checked against dig/kdig-style input and typed errors. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  decodeTlsaRdata,
  describeTlsa,
  encodeTlsaRdata,
  formatTlsaRdata,
  formatTlsaZoneLine,
  makeTlsaRecord,
  parseTlsaRdata,
  tlsaEqual,
} from '../../../src/dane/tlsa.js'
import { isDaneelError } from '../../../src/errors.js'
import { buildSelfSignedCertificate } from '../../../src/x509/build.js'
import { fromHex, toHex } from '../../../src/x509/hex.js'
import { generateKeyPair } from '../../../src/x509/keys.js'

const D256 = 'F97D2FE7AB87B5DEA86CC5B45F6CB9766415D3D69BFA6B1079AD9785616F0C89'

describe('parseTlsaRdata', () => {
  it('reads dig +short output, hex split in groups', () => {
    // dig prints TLSA data in 56-digit groups separated by spaces
    const r = parseTlsaRdata('3 1 1 F97D2FE7AB87B5DEA86CC5B45F6CB9766415D3D69BFA6B1079AD9785 616F0C89')
    assert.deepEqual([r.usage, r.selector, r.matchingType, toHex(r.data).toUpperCase()], [3, 1, 1, D256])
  })
  it('reads a zone-file style multi-line record in parentheses and RFC 7218 mnemonics', () => {
    const r = parseTlsaRdata(`DANE-EE SPKI SHA2-256 (\n  ${D256.slice(0, 32)}\n  ${D256.slice(32)} )`)
    assert.equal(formatTlsaRdata(r), `3 1 1 ${D256}`)
  })
  const bad: [string, string, string][] = [
    ['odd-length hex', `3 1 1 ${D256}A`, 'ERR_HEX_INVALID'],
    ['non-hex', `3 1 1 ${D256.slice(2)}ZZ`, 'ERR_HEX_INVALID'],
    ['unknown usage', `5 1 1 ${D256}`, 'ERR_TLSA_UNSUPPORTED'],
    ['unknown selector', `3 2 1 ${D256}`, 'ERR_TLSA_UNSUPPORTED'],
    ['unknown matching type', `3 1 3 ${D256}`, 'ERR_TLSA_UNSUPPORTED'],
    ['field out of range', `256 1 1 ${D256}`, 'ERR_TLSA_INVALID'],
    ['SHA2-256 of the wrong length', `3 1 1 ${D256}00`, 'ERR_TLSA_INVALID'],
    ['SHA2-512 of SHA2-256 length', `3 1 2 ${D256}`, 'ERR_TLSA_INVALID'],
    ['no data', '3 1 1', 'ERR_TLSA_INVALID'],
    ['empty', '', 'ERR_TLSA_INVALID'],
    ['word', `three 1 1 ${D256}`, 'ERR_TLSA_INVALID'],
  ]
  for (const [label, text, code] of bad) {
    it(`${label} is ${code}`, () => {
      assert.throws(
        () => parseTlsaRdata(text),
        (e) => isDaneelError(e, code as 'ERR_TLSA_INVALID'),
      )
    })
  }
})

describe('formats', () => {
  const rec = parseTlsaRdata(`3 1 1 ${D256.toLowerCase()}`)
  it('zone-file line with the one default TTL (300) and a trailing dot', () => {
    assert.equal(formatTlsaZoneLine('dev1._device.example.com', rec), `dev1._device.example.com. 300 IN TLSA 3 1 1 ${D256}`)
    assert.equal(formatTlsaZoneLine('dev1._device.example.com.', rec, 60), `dev1._device.example.com. 60 IN TLSA 3 1 1 ${D256}`)
    assert.equal(formatTlsaZoneLine('dev1._device.example.com.', rec, 300), `dev1._device.example.com. 300 IN TLSA 3 1 1 ${D256}`)
    assert.equal(describeTlsa(rec), 'DANE-EE SPKI SHA2-256')
  })
  it('wire RDATA round-trips (RFC 6698 §2.1: three octets then data)', () => {
    const wire = encodeTlsaRdata(rec)
    assert.equal(toHex(wire.slice(0, 3)), '030101')
    assert.ok(tlsaEqual(decodeTlsaRdata(wire), rec))
    assert.throws(
      () => decodeTlsaRdata(fromHex('030101')),
      (e) => isDaneelError(e, 'ERR_TLSA_INVALID'),
    )
    assert.throws(
      () => decodeTlsaRdata(fromHex(`070101${D256}`)),
      (e) => isDaneelError(e, 'ERR_TLSA_UNSUPPORTED'),
    )
  })
  it('every usage/selector/matching combination can be generated and re-parsed', () => {
    const der = buildSelfSignedCertificate({ name: 'x._device.example.com', key: generateKeyPair('p256').privateKey })
    for (const u of [0, 1, 2, 3, 4] as const) {
      for (const s of [0, 1] as const) {
        for (const m of [0, 1, 2] as const) {
          const r = makeTlsaRecord(der, u, s, m)
          assert.equal(r.data.length, m === 1 ? 32 : m === 2 ? 64 : s === 0 ? der.length : 91)
          assert.ok(tlsaEqual(parseTlsaRdata(formatTlsaRdata(r)), r))
          assert.ok(tlsaEqual(decodeTlsaRdata(encodeTlsaRdata(r)), r))
        }
      }
    }
    assert.throws(
      () => makeTlsaRecord(der, 9 as 3, 0, 0),
      (e) => isDaneelError(e, 'ERR_TLSA_UNSUPPORTED'),
    )
  })
})
