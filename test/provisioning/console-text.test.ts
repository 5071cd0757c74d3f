/** A person at a serial terminal: typed commands with CR, backspace, a pasted PEM, garbage, and finish force; nothing secret echoed. */

import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { readStatus } from '../../provisioning/state.js'
import { selfSignedP256Args } from '../../testkit/openssl.js'
import { cliPath, makeTempDir } from '../../testkit/paths.js'
import { HostLine, type PtyPair, startPtyPair } from './pty-line.js'

const NAME = 'desk1.airquality._device.example.test'
let tmp: { dir: string; cleanup: () => void }
let pty: PtyPair
let line: HostLine
let child: ChildProcess | undefined

before(async () => {
  tmp = makeTempDir('daneel-console-')
  pty = await startPtyPair(tmp.dir)
  line = new HostLine(pty.host)
})

after(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  line?.close()
  await pty?.stop()
  tmp?.cleanup()
})

test('typed session over the serial line, ending in finish force', async () => {
  const crypto = join(tmp.dir, 'crypto')
  child = spawn(process.execPath, [cliPath, 'provision', '--serial', pty.device, '--crypto-path', crypto], {
    stdio: 'ignore',
    env: { ...process.env, DANE_ID: '' },
  })
  const exit = new Promise<number | null>((r) => child?.once('exit', (c) => r(c)))
  let at = (await line.waitFor(/daneel> /, 0)).end
  const type = async (text: string, expect: RegExp): Promise<string> => {
    const from = at
    line.send(text)
    const m = await line.waitFor(expect, from)
    at = m.end
    return line.transcript.slice(from, m.end)
  }
  assert.match(await type('help\r', /\r\nok\r\ndaneel> /), /finish \[force\]/)
  assert.match(await type('sx\x7ftatus\r', /\r\nok\r\ndaneel> /), /next: set/)
  await type('frobnicate\r', /error ERR_USAGE: unknown command 'frobnicate'/)
  await type(`${'x'.repeat(70_000)}\r`, /error ERR_USAGE: line too long/)
  await type(`set dane-id ${NAME}\r`, /\r\nok\r\ndaneel> /)
  assert.match(
    await type('set broker mqtts://operator:pw-typed-here@broker.example.test:8883\r', /\r\nok\r\ndaneel> /),
    /set MQTT_URL=mqtts:\/\/\*\*\*@broker\.example\.test:8883/,
  )
  assert.match(
    await type('create\r', /\r\nok\r\ndaneel> /),
    new RegExp(`${NAME.replaceAll('.', '\\.')}\\. 300 IN TLSA 3 0 0 [0-9A-F]+\\r\\n`),
  )
  // paste a certificate that is not ours: refused, and the line stays usable
  spawnSync(
    'openssl',
    selfSignedP256Args({
      key: join(tmp.dir, 'k'),
      cert: join(tmp.dir, 'c'),
      days: 1,
      subject: `/CN=${NAME}`,
      ext: [`subjectAltName=DNS:${NAME}`],
    }),
  )
  await type('install\r', /paste the certificate/)
  const pem = readFileSync(join(tmp.dir, 'c'), 'utf8').trim().split('\n')
  await type(`\r${pem.join('\r')}\r`, /error ERR_KEY_MISMATCH/)
  await type('finish\r', /error ERR_PROVISION: the DNS self-check has not passed/)
  // quit leaves the session, not the service: the console is offered again and remembers everything
  await type('quit\r', /bye: provisioning is not finished/)
  await type('', /daneel provisioning \([^\n]*\r\ndaneel> /)
  assert.equal(child.exitCode, null)
  assert.match(await type('status\r', /\r\nok\r\ndaneel> /), /identity: certificate/)
  assert.match(await type('finish force\r', /provisioning finished[^\n]*\r\nok\r\n/), /finished for desk1/)
  assert.equal(await exit, 0)
  assert.equal(readStatus(crypto).finished, true)
  assert.ok(!line.transcript.includes('pw-typed-here'), 'the typed password came back over the line')
  assert.ok(!line.transcript.includes(pem[1] ?? '-'), 'the pasted PEM was echoed')
})

test('--stdio: JSON lines on stdin, one JSON reply per request on stdout; quit leaves it unfinished (exit 1)', async () => {
  const crypto = join(tmp.dir, 'crypto-stdio')
  const r = spawnSync(process.execPath, [cliPath, 'provision', '--stdio', '--crypto-path', crypto], {
    input: '{"id":1,"op":"hello"}\n{"id":2,"op":"set","key":"dns","value":"127.0.0.1:53"}\nnot json {\n{"id":3,"op":"quit"}\n',
    encoding: 'utf8',
    env: { ...process.env, DANE_ID: '' },
  })
  assert.equal(r.status, 1, r.stderr)
  const replies = r.stdout
    .split('\r\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { id: number; ok: boolean; result?: Record<string, unknown> })
  assert.deepEqual(
    replies.map((x) => [x.id, x.ok]),
    [
      [1, true],
      [2, true],
      [3, true],
    ],
  )
  assert.equal(replies[0]?.result?.protocol, 'daneel-provision/1')
  assert.match(r.stdout, /error ERR_USAGE: unknown command 'not'/)
  assert.equal(readStatus(crypto).settings.DNS_SERVER, '127.0.0.1:53')
})
