/** `daneel gateway` argv and settings: --help, usage errors (exit 2), flags over env, HOST:PORT parsing. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { parseHostPort } from '../../cli/commands/gateway.js'
import { DEFAULT_PREFETCH, parseSource } from '../../gateway/source.js'
import { isDaneelError } from '../../src/errors.js'
import { cliPath, makeTempDir } from '../../testkit/paths.js'
import { freePort } from '../../testkit/ports.js'

const daneel = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 30_000 })

describe('daneel gateway (argv)', () => {
  it('--help documents the store, HTTP and share flags with their variables; exit 0', () => {
    const r = daneel(['gateway', '--help'])
    assert.equal(r.status, 0, r.stderr)
    for (const s of [
      '--store URL',
      'DANEEL_STORE',
      '--http HOST:PORT',
      'DANEEL_HTTP',
      '--http-token',
      '--share GROUP',
      '--homeassistant',
      '--source SRC',
      'DANEEL_SOURCE',
      '--prefetch N',
      '--declare-only',
    ])
      assert.ok(r.stdout.includes(s), s)
    assert.match(daneel(['--help']).stdout, /^ {2}gateway /m)
  })

  it('usage and settings errors exit 2 before anything is opened', () => {
    const tmp = makeTempDir('daneel-gwcli-')
    try {
      const env = { DANE_ID: 'gw.gateway._device.example.test', CRYPTO_PATH: tmp.dir, DANEEL_STATE: tmp.dir }
      const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
        [['gateway', 'extra'], env, /unexpected argument/],
        [['gateway', '--nope'], env, /unknown option '--nope'/],
        [['gateway', '--http', 'localhost'], env, /HOST:PORT/],
        [['gateway'], { ...env, DANEEL_HTTP: '127.0.0.1:99999' }, /HOST:PORT/],
        [['gateway', '--share', 'a/b'], env, /--share/],
        [['gateway', '--homeassistant', 'http://ha'], env, /MQTT URL/],
        [['gateway', '--batch', '0'], env, /--batch/],
        [['gateway', '--source', 'http://broker:5672'], env, /--source must be/],
        [['gateway'], { ...env, DANEEL_SOURCE: 'amqp://a:1,mqtt://b:2' }, /amqp:\/\/ or amqps:\/\//],
        [['gateway', '--prefetch', '10'], env, /need --source amqp/],
        [['gateway', '--declare-only'], env, /need --source amqp/],
        [['gateway', '--source', 'amqp://a:1', '--prefetch', '0'], env, /--prefetch/],
        [['gateway', '--source', 'amqp://a:1', '--prefetch', '70000'], env, /--prefetch/],
        [['gateway', '--source', 'amqp://a:1', '--share', 'g'], env, /--share is for MQTT/],
        [['gateway'], { CRYPTO_PATH: tmp.dir }, /DANE_ID/],
        // the flag wins over the environment: a good DANEEL_HTTP does not hide a bad --http
        [['gateway', '--http', 'x:y'], { ...env, DANEEL_HTTP: '127.0.0.1:8080' }, /HOST:PORT/],
      ]
      for (const [args, e, re] of cases) {
        const r = daneel(args, e)
        assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
        assert.match(r.stderr, re, args.join(' '))
      }
      // no identity: a check failed, and no store was created for it
      const r = daneel(['gateway', '--store', `sqlite:${tmp.dir}/x/readings.db`], env)
      assert.notEqual(r.status, 0)
      assert.match(r.stderr, /identity|key/i)
      assert.equal(spawnSync('test', ['-e', `${tmp.dir}/x/readings.db`]).status, 1)
    } finally {
      tmp.cleanup()
    }
  })

  it('--source: mqtt by default, a list of AMQP URLs with the prefetch; --declare-only with no broker answering exits 1', async () => {
    assert.deepEqual(parseSource(undefined), { kind: 'mqtt' })
    assert.deepEqual(parseSource('mqtt'), { kind: 'mqtt' })
    assert.deepEqual(parseSource('amqp://a:1, amqps://u:p@b:2', 8), { kind: 'amqp', urls: ['amqp://a:1', 'amqps://u:p@b:2'], prefetch: 8 })
    assert.equal((parseSource('amqp://a:1') as { prefetch: number }).prefetch, DEFAULT_PREFETCH)
    assert.throws(
      () => parseSource('amqp://u:secret@a:1,tcp://b:2'),
      (e: unknown) => isDaneelError(e, 'ERR_CONFIG_INVALID') && !String((e as Error).message).includes('secret'),
    )
    const port = await freePort() // nothing listens there
    const r = daneel(['gateway', '--source', `amqp://127.0.0.1:${port}`, '--declare-only'], { DANE_ID: 'gw.gateway._device.example.test' })
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /no broker declared queue daneel\.gw\.gateway\._device\.example\.test .*\[ERR_AMQP\]/)
    assert.equal(r.stdout, '')
  })

  it('parseHostPort: host:port and [v6]:port; anything else is ERR_USAGE', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:8080', 'x'), { host: '127.0.0.1', port: 8080 })
    assert.deepEqual(parseHostPort('[::1]:0', 'x'), { host: '::1', port: 0 })
    assert.deepEqual(parseHostPort('gw.example:443', 'x'), { host: 'gw.example', port: 443 })
    for (const bad of ['8080', ':8080', '::1:80', 'h:65536', 'h:-1', 'h p:1'])
      assert.throws(
        () => parseHostPort(bad, 'x'),
        (e: unknown) => isDaneelError(e) && e.code === 'ERR_USAGE',
        bad,
      )
  })
})

describe('daneel send NAME - (argv)', () => {
  it('--help describes stdin mode; a missing MESSAGE is a usage error', () => {
    const h = daneel(['send', '--help'])
    assert.equal(h.status, 0)
    assert.match(h.stdout, /MESSAGE '-', every line of stdin is one message/)
    const r = daneel(['send', 'gw.gateway._device.example.test'])
    assert.equal(r.status, 2)
  })
})
