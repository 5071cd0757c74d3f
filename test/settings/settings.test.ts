/** The environment contract of docs/contract.md and its flags: names, aliases, defaults, flags winning, clear errors. */

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { requireDaneId, resolveSettings } from '../../settings/settings.js'
import { isDaneelError } from '../../src/errors.js'

test('defaults', () => {
  const s = resolveSettings({}, {}, () => false)
  assert.equal(s.daneId, undefined)
  assert.equal(s.cryptoPath, '/var/lib/daneel/crypto')
  assert.deepEqual(s.legacyDomains, [])
  assert.equal(s.groupName, undefined)
  assert.equal(s.mqttUrl, 'mqtt://127.0.0.1:1883')
  assert.equal(s.maxMessageSize, 16384)
  assert.equal(s.stateDir, '/var/lib/daneel/crypto/state')
  assert.deepEqual(s.trustedDomains, [])
  assert.equal(s.noDnssec, false)
  assert.equal(s.dnssecMode, 'validate')
  assert.equal(s.cryptoProvider, 'node')
  assert.equal(s.dnsServers, undefined)
})

test('environment names of the original system, IDENTITY_NAME alias, normalisation', () => {
  const s = resolveSettings(
    {},
    {
      IDENTITY_NAME: 'C90A0D441683.AirQuality._device.Example.com.',
      CRYPTO_PATH: '/tmp/c',
      APP_UID: '1000',
      NO_DNSSEC: 'true',
      MQTT_HOST: 'broker.lan',
      MQTT_PORT: '8883',
      TRUSTED_DOMAINS: 'example.com, Other.org. ,',
      MAX_MESSAGE_SIZE: '4096',
      DNS_SERVER: '127.0.0.1:5353,::1',
      DNSSEC_TRUST_ANCHORS: '/etc/anchors',
      DNSSEC: 'resolver',
      DANEEL_CRYPTO: 'noble',
    },
  )
  assert.equal(s.daneId, 'c90a0d441683.airquality._device.example.com')
  assert.equal(s.cryptoPath, '/tmp/c')
  assert.equal(s.appUid, 1000)
  assert.equal(s.noDnssec, true)
  assert.equal(s.mqttUrl, 'mqtt://broker.lan:8883')
  assert.deepEqual(s.trustedDomains, ['example.com', 'other.org'])
  assert.equal(s.maxMessageSize, 4096)
  assert.equal(s.stateDir, '/tmp/c/state')
  assert.deepEqual(s.dnsServers, ['127.0.0.1:5353', '::1'])
  assert.equal(s.trustAnchorsFile, '/etc/anchors')
  assert.equal(s.dnssecMode, 'resolver')
  assert.equal(s.cryptoProvider, 'noble')
})

test('DANE_ID wins over IDENTITY_NAME; flags win over env; MQTT_URL wins over host/port', () => {
  const env = { DANE_ID: 'a._device.x.org', IDENTITY_NAME: 'b._device.x.org', MQTT_URL: 'mqtts://h:8883', MQTT_HOST: 'ignored' }
  assert.equal(resolveSettings({}, env).daneId, 'a._device.x.org')
  assert.equal(resolveSettings({}, env).mqttUrl, 'mqtts://h:8883')
  const s = resolveSettings({ 'dane-id': 'c._device.x.org', 'mqtt-url': 'mqtt://flag:1', state: '/s' }, { ...env, DANEEL_STATE: '/env' })
  assert.equal(s.daneId, 'c._device.x.org')
  assert.equal(s.mqttUrl, 'mqtt://flag:1')
  assert.equal(s.stateDir, '/s')
})

test("DANEEL_STATE defaults to systemd's STATE_DIRECTORY (first entry), IPv6 broker hosts are bracketed", () => {
  assert.equal(resolveSettings({}, { STATE_DIRECTORY: '/var/lib/daneel:/var/lib/other' }).stateDir, '/var/lib/daneel')
  assert.equal(resolveSettings({}, { MQTT_HOST: '::1' }).mqttUrl, 'mqtt://[::1]:1883')
  assert.equal(resolveSettings({}, { MQTT_HOST: '[::1]' }).mqttUrl, 'mqtt://[::1]:1883')
})

test('MQTT_HOST: host names (RFC 1123, plus the underscores of container names) and IP addresses become the URL host', () => {
  for (const [host, url] of [
    ['broker.example.com', 'mqtt://broker.example.com:1883'],
    ['broker.example.com.', 'mqtt://broker.example.com.:1883'],
    ['mqtt_broker', 'mqtt://mqtt_broker:1883'],
    ['192.0.2.7', 'mqtt://192.0.2.7:1883'],
    ['2001:db8::7', 'mqtt://[2001:db8::7]:1883'],
    [' localhost ', 'mqtt://localhost:1883'],
  ] as const) {
    const s = resolveSettings({}, { MQTT_HOST: host })
    assert.equal(s.mqttUrl, url)
    assert.equal(new URL(s.mqttUrl).username, '', host)
  }
})

for (const [env, field] of [
  [{ MQTT_PORT: 'eighty' }, 'MQTT_PORT'],
  [{ MQTT_PORT: '70000' }, 'MQTT_PORT'],
  [{ MAX_MESSAGE_SIZE: '-1' }, 'MAX_MESSAGE_SIZE'],
  [{ GROUP_NAME: 'a/b' }, 'GROUP_NAME'],
  [{ GROUP_NAME: 'sensors/#' }, 'GROUP_NAME'],
  [{ DNSSEC: 'trust-me' }, 'DNSSEC'],
  [{ DANEEL_CRYPTO: 'wasm' }, 'DANEEL_CRYPTO'],
  [{ MQTT_URL: 'http://x' }, 'MQTT_URL'],
  [{ MQTT_URL: 'mqtt://:1883' }, 'MQTT_URL'],
  [{ MQTT_HOST: 'a b@c' }, 'MQTT_HOST'],
  [{ MQTT_HOST: 'user:pw@evil' }, 'MQTT_HOST'],
  [{ MQTT_HOST: 'h/path' }, 'MQTT_HOST'],
  [{ MQTT_HOST: 'h?x=1' }, 'MQTT_HOST'],
  [{ MQTT_HOST: 'h#frag' }, 'MQTT_HOST'],
  [{ MQTT_HOST: '-lead.example' }, 'MQTT_HOST'],
  [{ MQTT_HOST: 'a..b' }, 'MQTT_HOST'],
  [{ MQTT_HOST: `${'a'.repeat(64)}.example` }, 'MQTT_HOST'],
  [{ APP_UID: 'root' }, 'APP_UID'],
] as const) {
  test(`bad ${field} is a config error naming it`, () => {
    assert.throws(
      () => resolveSettings({}, env),
      (err: unknown) => isDaneelError(err, 'ERR_CONFIG_INVALID') && err.message.includes(field),
    )
  })
}

test('NO_DNSSEC is on when set to any non-empty value, as in the original identity-manager; unset or empty is off', () => {
  for (const v of ['1', 'true', 'yes', 'TRUE', 'false', '0', 'no']) assert.equal(resolveSettings({}, { NO_DNSSEC: v }).noDnssec, true, v)
  assert.equal(resolveSettings({}, { NO_DNSSEC: '' }).noDnssec, false)
  assert.equal(resolveSettings({}, { NO_DNSSEC: '  ' }).noDnssec, false)
  assert.equal(resolveSettings({}, {}).noDnssec, false)
  assert.equal(resolveSettings({ 'no-dnssec': true }, {}).noDnssec, true)
})

test('CRYPTO_PATH defaults to the original /etc/dane_id only when it exists and ours does not; set, it always wins', () => {
  const only =
    (...present: string[]) =>
    (p: string) =>
      present.includes(p)
  assert.equal(resolveSettings({}, {}, only('/etc/dane_id')).cryptoPath, '/etc/dane_id')
  assert.equal(resolveSettings({}, {}, only('/etc/dane_id')).stateDir, '/etc/dane_id/state')
  assert.equal(resolveSettings({}, {}, only('/etc/dane_id', '/var/lib/daneel/crypto')).cryptoPath, '/var/lib/daneel/crypto')
  assert.equal(resolveSettings({}, {}, only()).cryptoPath, '/var/lib/daneel/crypto')
  assert.equal(resolveSettings({}, { CRYPTO_PATH: '/c' }, only('/etc/dane_id')).cryptoPath, '/c')
})

test('LEGACY_DOMAINS and GROUP_NAME (flags win), and the topic they give', async () => {
  const { topicFor } = await import('../../settings/settings.js')
  const s = resolveSettings({}, { LEGACY_DOMAINS: 'Old.Example.com., ,lab.org', GROUP_NAME: 'airquality' })
  assert.deepEqual(s.legacyDomains, ['old.example.com', 'lab.org'])
  assert.equal(s.groupName, 'airquality')
  assert.equal(topicFor(s, 'n._device.x.org'), 'airquality/n._device.x.org')
  const f = resolveSettings({ 'legacy-domains': 'a.org', 'group-name': 'g' }, { LEGACY_DOMAINS: 'b.org', GROUP_NAME: 'h' })
  assert.deepEqual(f.legacyDomains, ['a.org'])
  assert.equal(topicFor(f, 'n._device.x.org'), 'g/n._device.x.org')
  assert.equal(topicFor(resolveSettings({}, {}), 'n._device.x.org'), 'n._device.x.org')
})

test('requireDaneId explains how to set it', () => {
  assert.throws(
    () => requireDaneId(resolveSettings({}, {})),
    (err: unknown) => isDaneelError(err, 'ERR_USAGE') && /DANE_ID/.test(err.message),
  )
})
