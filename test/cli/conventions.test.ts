/** Every command against the one convention: the README table is generated from cli/conventions.ts, and each row is run. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { SUBCOMMANDS } from '../../cli/commands/identity.js'
import { SUBCOMMANDS as SENSOR_SUBCOMMANDS } from '../../cli/commands/sensor.js'
import { CONVENTIONS, renderConventionsTable } from '../../cli/conventions.js'
import { COMMANDS } from '../../cli/main.js'
import { cliPath, makeTempDir, repoPath } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-conventions-')
after(() => tmp.cleanup())

function daneel(args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8',
    input: '',
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? '', CRYPTO_PATH: tmp.dir, DANE_ID: 'dev1.aq._device.example.com', DNS_SERVER: '127.0.0.1:9' },
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** A usage error is exactly one line on stderr, saying where help is. */
function assertUsageLine(r: ReturnType<typeof daneel>, command: string, what?: RegExp): void {
  assert.equal(r.status, 2, `${command}: ${r.stderr}`)
  const lines = r.stderr.split('\n').filter((l) => l !== '')
  assert.equal(lines.length, 1, `one line, not:\n${r.stderr}`)
  assert.match(lines[0] as string, /^daneel: \S/)
  if (what !== undefined) assert.match(lines[0] as string, what)
}

describe('cli conventions (README "Commands at a glance")', () => {
  it('the README table is the one generated from cli/conventions.ts', () => {
    const readme = readFileSync(repoPath('README.md'), 'utf8')
    const m = /<!-- cli-conventions -->\n([\s\S]*?)<!-- \/cli-conventions -->/.exec(readme)
    assert.ok(m !== null, 'README has the cli-conventions markers')
    assert.equal(m[1], renderConventionsTable(), 'regenerate with: npm run docs:cli')
  })

  it('every command and every identity and sensor subcommand has a row', () => {
    const expected = [
      ...Object.keys(COMMANDS).filter((c) => c !== 'identity' && c !== 'sensor'),
      ...Object.keys(SUBCOMMANDS).map((s) => `identity ${s}`),
      ...Object.keys(SENSOR_SUBCOMMANDS).map((s) => `sensor ${s}`),
    ]
    assert.deepEqual(CONVENTIONS.map((r) => r.command).sort(), expected.sort())
  })

  for (const row of CONVENTIONS) {
    const cmd = row.command.split(' ')
    it(`daneel ${row.command}: --help, --json as the table says, one-line usage errors with exit 2`, () => {
      const help = daneel([...cmd, '--help'])
      assert.equal(help.status, 0, help.stderr)
      assert.match(help.stdout, new RegExp(`^Usage: daneel ${row.command}\\b`, 'm'))
      assert.equal(/--json\b/.test(help.stdout), row.json !== 'no', `--json in the help of ${row.command}`)
      if (row.json === 'no') assertUsageLine(daneel([...cmd, '--json']), row.command, /unknown option '--json'/)
      else assert.equal(daneel([...cmd, '--json', '--help']).status, 0, `${row.command} accepts --json`)
      assertUsageLine(
        daneel([...cmd, '--no-such-flag']),
        row.command,
        new RegExp(`^daneel: unknown option '--no-such-flag' \\(see daneel ${row.command} --help\\) \\[ERR_USAGE\\]$`),
      )
      assertUsageLine(daneel(row.badUsage as string[]), row.command, new RegExp(`\\(see daneel ${row.command} --help\\) \\[ERR_\\w+\\]$`))
    })
  }

  it('a negative number is a value, and is told what is wrong with it', () => {
    const r = daneel(['identity', 'create', '--days', '-5'])
    assertUsageLine(r, 'identity create', /--days must be .*not '-5'/)
    assert.doesNotMatch(r.stderr, /ambiguous/)
  })

  it('a serial device that is not there is an input error (2), not a failed check', () => {
    const r = daneel(['provision', '--serial', '/dev/daneel-no-such-device'])
    assert.equal(r.status, 2, r.stderr)
    assert.match(r.stderr, /^daneel: cannot open \/dev\/daneel-no-such-device: no such device .*\[ERR_IO\]\n$/)
  })

  it('an unknown LOG_LEVEL is an error, not a silent default', () => {
    const r = spawnSync(process.execPath, [cliPath, 'identity', 'show'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', CRYPTO_PATH: tmp.dir, DANE_ID: 'dev1.aq._device.example.com', LOG_LEVEL: 'verbose' },
    })
    assert.equal(r.status, 2)
    assert.match(r.stderr, /^daneel: LOG_LEVEL must be one of debug, info, warn, error, silent, not 'verbose' \[ERR_CONFIG_INVALID\]\n$/)
    assertUsageLine(daneel(['identity', 'show', '--log-format', 'yaml']), 'identity show', /--log-format must be text or json/)
  })
})
