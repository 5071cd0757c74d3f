/** One version everywhere: package.json, `daneel --version`, `daneel run --version` (the device bundle's entry). */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { VERSION } from '../../src/version.js'
import { cliPath, repoPath } from '../../testkit/paths.js'

test('VERSION is package.json version, and both entry points print it', () => {
  const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }
  assert.equal(VERSION, pkg.version)
  for (const args of [
    [cliPath, '--version'],
    [cliPath, 'run', '--version'],
    [repoPath('build/cli/commands/run.js'), '--version'],
  ]) {
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, `daneel ${pkg.version}\n`)
  }
})
