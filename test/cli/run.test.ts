/** `daneel run` through the CLI dispatcher: help, usage errors, config errors naming the field (exit 2). */

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { cliPath, makeTempDir, repoPath } from '../../testkit/paths.js'

const daneel = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cliPath, 'run', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 30_000,
  })

test('daneel run --help documents the config, signals and settings; exit 0', () => {
  const r = daneel(['--help'])
  assert.equal(r.status, 0)
  assert.match(r.stdout, /Usage: daneel run --config FILE/)
  assert.match(r.stdout, /SIGHUP reloads the config/)
  assert.match(r.stdout, /DNSSEC_TRUST_ANCHORS/)
  assert.match(r.stdout, /--time-sync-file FILE +DANEEL_TIME_SYNC_FILE: the clock counts as synchronised once FILE exists/)
})

test('daneel run: DANEEL_TIME_SYNC_FILE and --time-sync-file must be absolute paths (exit 2, naming the one given)', () => {
  const env = daneel(['--config', 'device.json'], { DANE_ID: 'n1._device.example.com', DANEEL_TIME_SYNC_FILE: 'synced' })
  assert.equal(env.status, 2, env.stderr)
  assert.match(env.stderr, /^daneel: DANEEL_TIME_SYNC_FILE must be an absolute path, not 'synced' \[ERR_CONFIG_INVALID\]$/m)
  const flag = daneel(['--config', 'device.json', '--time-sync-file', 'run/synced'], { DANE_ID: 'n1._device.example.com' })
  assert.equal(flag.status, 2, flag.stderr)
  assert.match(flag.stderr, /^daneel: --time-sync-file must be an absolute path, not 'run\/synced' \[ERR_CONFIG_INVALID\]$/m)
})

test('daneel run: missing --config, unknown flags and invalid configs are usage errors (exit 2)', (t) => {
  const { dir, cleanup } = makeTempDir()
  t.after(cleanup)
  assert.equal(daneel([]).status, 2)
  const unknown = daneel(['--confg', 'x'])
  assert.equal(unknown.status, 2)
  assert.match(unknown.stderr, /confg/)
  const cfg = join(dir, 'device.json')
  writeFileSync(
    cfg,
    JSON.stringify({
      version: 1,
      recipients: ['gw._device.example.com'],
      sensors: [{ id: 'pm', type: 'pms5003', port: '/dev/ttyAMA0', baud: 115200 }],
    }),
  )
  const bad = daneel(['--config', cfg], { DANE_ID: 'n1._device.example.com', CRYPTO_PATH: dir })
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /config field sensors\[0\]\.baud: pms5003 speaks 9600 8N1 only/)
  // Every shipped example passes validation up to the identity (which this temp dir does not have).
  const ex = daneel(['--config', repoPath('examples/airquality-pi.json')], {
    DANE_ID: 'n1._device.example.com',
    CRYPTO_PATH: dir,
    DANEEL_STATE: join(dir, 's'),
  })
  assert.equal(ex.status, 2)
  assert.match(ex.stderr, /ERR_IDENTITY_MISSING/)
})
