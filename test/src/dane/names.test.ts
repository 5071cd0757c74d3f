/** Identity names, x5u URIs and the trusted-domain rule (docs/contract.md "Names", "Environment"). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatX5u, identityDomain, isTrustedSender, parseIdentityName, parseX5u, splitIdentityName } from '../../../src/dane/names.js'
import { isDaneelError } from '../../../src/errors.js'

const NAME = 'c90a0d441683.airquality._device.example.com'

describe('identity names', () => {
  it('normalises case and a trailing dot; DEVICE_ID may be several labels', () => {
    assert.equal(parseIdentityName('C90A0D441683.AirQuality._device.Example.COM.'), NAME)
    assert.deepEqual(splitIdentityName(NAME), { name: NAME, deviceId: 'c90a0d441683.airquality', domain: 'example.com' })
  })
  for (const bad of [
    '',
    'example.com',
    '_device.example.com',
    'dev1._device',
    'dev1..x._device.example.com',
    'dev 1._device.example.com',
    `${'a'.repeat(64)}._device.example.com`,
    `${'a.'.repeat(127)}_device.example.com`,
    'dev1._device.exa$mple.com',
    '-dev._device.example.com',
  ]) {
    it(`rejects ${JSON.stringify(bad.slice(0, 40))}`, () => {
      assert.throws(
        () => parseIdentityName(bad),
        (e) => isDaneelError(e, 'ERR_NAME_INVALID'),
      )
    })
  }
  it('identityDomain: what follows the rightmost underscore label', () => {
    assert.equal(identityDomain(NAME), 'example.com')
    assert.equal(identityDomain('a._x.b._device.sub.example.org'), 'sub.example.org')
    assert.throws(
      () => identityDomain('host.example.com'),
      (e) => isDaneelError(e, 'ERR_NAME_INVALID'),
    )
  })
})

describe('x5u', () => {
  it('formats dns://<name>?type=TLSA', () => {
    assert.equal(formatX5u(`${NAME}.`), `dns://${NAME}?type=TLSA`)
  })
  it('accepts the three docs/contract.md forms (authority ignored) and class=IN', () => {
    for (const uri of [
      `dns://${NAME}?type=TLSA`,
      `dns:${NAME}?type=TLSA`,
      `dns://8.8.8.8/${NAME}?type=TLSA`,
      `dns://[::1]:53/${NAME}?type=tlsa`,
      `DNS:${NAME.toUpperCase()}.?class=IN;type=TLSA`,
    ]) {
      assert.equal(parseX5u(uri), NAME, uri)
    }
  })
  for (const bad of [
    `https://${NAME}`,
    `dns://${NAME}`,
    `dns://${NAME}?type=A`,
    `dns://${NAME}?type=TLSA&x=1`,
    `dns://a/b/${NAME}?type=TLSA`,
    `dns:${NAME}%00?type=TLSA`,
    'dns://?type=TLSA',
    `dns://${NAME}?type=TLSA#frag`,
  ]) {
    it(`rejects ${bad.slice(0, 60)}`, () => {
      assert.throws(
        () => parseX5u(bad),
        (e) => isDaneelError(e, 'ERR_X5U_INVALID'),
      )
    })
  }
})

describe('isTrustedSender', () => {
  const trusted = ['example.com', 'Partner.ORG.']
  it('the domain itself and names under it, label-wise and case-insensitively', () => {
    assert.equal(isTrustedSender(NAME, trusted), true)
    assert.equal(isTrustedSender('example.com', trusted), true)
    assert.equal(isTrustedSender('x._device.partner.org.', trusted), true)
    assert.equal(isTrustedSender('X._DEVICE.EXAMPLE.COM', trusted), true)
  })
  it('not a suffix that only looks alike, and nobody with an empty list', () => {
    assert.equal(isTrustedSender('x._device.evilexample.com', trusted), false)
    assert.equal(isTrustedSender('example.com.evil.net', trusted), false)
    assert.equal(isTrustedSender('com', trusted), false)
    assert.equal(isTrustedSender(NAME, []), false)
    assert.equal(isTrustedSender('', trusted), false)
  })
})
