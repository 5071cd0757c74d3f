/** runConsole over an in-memory line: idle timeout of a PEM paste, requests in order, end of input mid-request. */

import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { after, test } from 'node:test'
import { createIdentityOps } from '../../provisioning/identity.js'
import { type LineIo, runConsole } from '../../provisioning/serial-console.js'
import { type IdentityOps, ProvisionSession } from '../../provisioning/session.js'
import { readStatus } from '../../provisioning/state.js'
import { makeTempDir } from '../../testkit/paths.js'

const temps: Array<() => void> = []
after(() => {
  for (const c of temps) c()
})

function rig(identity: Partial<IdentityOps> = {}): {
  io: LineIo
  input: PassThrough
  out: () => string
  session: ProvisionSession
  dir: string
} {
  const t = makeTempDir('daneel-console-unit-')
  temps.push(t.cleanup)
  const input = new PassThrough()
  let text = ''
  const io: LineIo = { input, write: (s) => (text += s), close: () => input.destroy() }
  const session = new ProvisionSession({ cryptoPath: t.dir, identity: { ...createIdentityOps(), ...identity } })
  return { io, input, out: () => text, session, dir: t.dir }
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

test('a PEM paste left half-way is dropped after the idle timeout, and the console goes on', async () => {
  const r = rig()
  const done = runConsole(r.io, r.session, { idleMs: 60 })
  r.input.write('install\r-----BEGIN CERTIFICATE-----\rMIIB\r')
  await tick(200)
  assert.match(r.out(), /install timed out; type install to paste again/)
  r.input.write('status\r')
  await tick(50)
  assert.match(r.out(), /next: set\r\nok\r\ndaneel> $/)
  r.input.write('quit\r')
  assert.equal(await done, 'quit')
})

test('requests run one at a time in order, and end of input waits for the one in progress', async () => {
  let release: () => void = () => {}
  const slow = new Promise<void>((r) => {
    release = r
  })
  const r = rig({
    check: async () => {
      await slow
      return { ok: true, lines: ['scripted check passed'] }
    },
  })
  const done = runConsole(r.io, r.session, {})
  r.input.write('{"id":1,"op":"set","values":{"DANE_ID":"c1.airquality._device.example.test","MQTT_URL":"mqtt://h:1883"}}\n')
  r.input.write('{"id":2,"op":"create"}\n{"id":3,"op":"check"}\n{"id":4,"op":"status"}\n')
  r.input.end()
  await tick(300)
  assert.doesNotMatch(r.out(), /"id":4/, 'status ran before the check finished')
  let ended = false
  void done.then(() => {
    ended = true
  })
  await tick(20)
  assert.equal(ended, false, 'the console ended while a request was in progress')
  release()
  assert.equal(await done, 'eof')
  const ids = [...r.out().matchAll(/\{"v":1,"id":(\d+)/g)].map((m) => Number(m[1]))
  assert.deepEqual(ids, [1, 2, 3, 4])
  assert.equal(readStatus(r.dir).dnsChecked, true)
})

test('requests read behind the one that ends the console are answered as not run, never dropped', async () => {
  const r = rig()
  const done = runConsole(r.io, r.session, {})
  // One chunk: the console has read all three lines when quit ends it.
  r.input.write('{"id":1,"op":"quit"}\n{"id":2,"op":"status"}\nstatus\n')
  assert.equal(await done, 'quit')
  const replies = [...r.out().matchAll(/\{"v":1,"id":(\d+),"ok":(true|false)[^\r\n]*\}\r\n/g)].map((m) => [Number(m[1]), m[2]])
  assert.deepEqual(replies, [
    [1, 'true'],
    [2, 'false'],
  ])
  assert.match(r.out(), /"id":2,"ok":false,"error":\{"code":"ERR_PROVISION","message":"not run: the console closed \(quit\)"\}/)
  assert.match(r.out(), /\r\nerror ERR_PROVISION: not run: the console closed \(quit\)\r\n$/)
  assert.doesNotMatch(r.out(), /next: set/, 'the status behind quit ran')
})
