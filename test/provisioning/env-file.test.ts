/** The env file round-trips through our parser and through /bin/sh (same double-quote escapes as systemd's EnvironmentFile=). */

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  checkValue,
  type EnvSettings,
  formatEnvFile,
  parseEnvFile,
  readEnvFile,
  redactValue,
  settableKey,
  writeEnvFile,
} from '../../provisioning/env-file.js'
import { throwsCode } from '../../testkit/assert-code.js'
import { makeTempDir } from '../../testkit/paths.js'

const tricky: EnvSettings = {
  DANE_ID: 'c90a0d441683.airquality._device.example.com',
  MQTT_URL: 'mqtts://user:p"a$s\\w`d@broker.example:8883',
  TRUSTED_DOMAINS: 'example.com, example.org',
  DNS_SERVER: '[::1]:5353,127.0.0.1',
}

test('format then parse gives the same settings', () => {
  assert.deepEqual(parseEnvFile(formatEnvFile(tricky)), tricky)
})

test('/bin/sh reads the file to the same values (the oracle for the quoting systemd shares with sh)', () => {
  const { dir, cleanup } = makeTempDir()
  try {
    const path = join(dir, 'daneel.env')
    writeEnvFile(path, tricky)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    const keys = Object.keys(tricky)
    const script = `set -a; . "$1"; ${keys.map((k) => `printf '%s\\0' "$${k}"`).join('; ')}`
    const r = spawnSync('sh', ['-c', script, 'sh', path], { encoding: 'utf8', env: {} })
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(
      r.stdout.split('\0').slice(0, -1),
      keys.map((k) => tricky[k as keyof EnvSettings]),
    )
    assert.deepEqual(readEnvFile(path), tricky)
    assert.deepEqual(readEnvFile(join(dir, 'missing.env')), {})
  } finally {
    cleanup()
  }
})

test('a value cannot smuggle in another variable or a control character', () => {
  for (const bad of ['x\nNO_DNSSEC=1', 'x\ry', 'nul\0', 'é', 'a'.repeat(1025)]) {
    throwsCode(() => checkValue('DANE_ID', bad), 'ERR_CONFIG_INVALID', JSON.stringify(bad))
    throwsCode(() => formatEnvFile({ DANE_ID: bad }), 'ERR_CONFIG_INVALID')
  }
  throwsCode(() => parseEnvFile('garbage line'), 'ERR_CONFIG_INVALID')
})

test('keys by name or alias; unknown keys are usage errors', () => {
  assert.equal(settableKey('broker'), 'MQTT_URL')
  assert.equal(settableKey('dane-id'), 'DANE_ID')
  assert.equal(settableKey('trusted_domains'), 'TRUSTED_DOMAINS')
  throwsCode(() => settableKey('CRYPTO_PATH'), 'ERR_USAGE')
  throwsCode(() => settableKey('PATH'), 'ERR_USAGE')
})

test('credentials in the broker URL are redacted, nothing else is', () => {
  assert.equal(redactValue('MQTT_URL', 'mqtts://u:secret@h:8883'), 'mqtts://***@h:8883')
  assert.equal(redactValue('MQTT_URL', 'mqtt://h:1883'), 'mqtt://h:1883')
  assert.equal(redactValue('DANE_ID', 'a@b'), 'a@b')
  assert.ok(!formatEnvFile({ MQTT_URL: 'mqtt://h' }).includes('secret'))
})
