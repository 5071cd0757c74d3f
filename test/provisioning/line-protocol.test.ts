/** The line protocol: line splitting a terminal or garbage can throw at it, typed commands, JSON requests, replies. */

import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  formatJsonReply,
  formatTextReply,
  LineSplitter,
  MAX_LINE,
  parseJsonRequest,
  parseTextCommand,
} from '../../provisioning/line-protocol.js'
import { isDaneelError } from '../../src/errors.js'

const lines = (s: LineSplitter, ...chunks: string[]): unknown[] => chunks.flatMap((c) => s.feed(Buffer.from(c, 'latin1')))

test('CR, LF and CR LF each end one line, across chunk boundaries', () => {
  const s = new LineSplitter()
  assert.deepEqual(lines(s, 'sta', 'tus\r', '\nhelp\n', 'quit\r', 'x\r\n'), [
    { line: 'status' },
    { line: 'help' },
    { line: 'quit' },
    { line: 'x' },
  ])
  assert.deepEqual(lines(s, '\r\n'), [{ line: '' }])
})

test('backspace and DEL edit, Ctrl-C and Ctrl-U clear, other control bytes vanish', () => {
  const s = new LineSplitter()
  assert.deepEqual(lines(s, 'stta\x7f\x7f\x7ftatus\r'), [{ line: 'status' }])
  assert.deepEqual(lines(s, 'rm -rf\x03help\r'), [{ line: 'help' }])
  assert.deepEqual(lines(s, 'garbage\x15ok\x00\x1b\x07\r'), [{ line: 'ok' }])
  assert.deepEqual(lines(s, 'a\tb\n'), [{ line: 'a b' }])
})

test('an overlong line is dropped to its end and the next line parses (resync)', () => {
  const s = new LineSplitter()
  const big = 'x'.repeat(MAX_LINE + 10)
  assert.deepEqual(lines(s, big.slice(0, 40000), big.slice(40000), 'tail\nstatus\n'), [{ overflow: true }, { line: 'status' }])
})

test('typed commands', () => {
  assert.deepEqual(parseTextCommand('  STATUS '), { op: 'status' })
  assert.deepEqual(parseTextCommand('set trusted example.com, example.org'), { op: 'set', values: { trusted: 'example.com, example.org' } })
  assert.deepEqual(parseTextCommand('set set x'), { op: 'set', values: { set: 'x' } })
  assert.deepEqual(parseTextCommand('create rsa2048 csr'), { op: 'create', keyType: 'rsa2048', csr: true, force: false })
  assert.deepEqual(parseTextCommand('create'), { op: 'create', csr: false, force: false })
  assert.deepEqual(parseTextCommand('install'), { op: 'install-begin' })
  assert.deepEqual(parseTextCommand('check wait'), { op: 'check', wait: true })
  assert.deepEqual(parseTextCommand('finish force'), { op: 'finish', force: true })
  assert.equal(parseTextCommand('   '), undefined)
  for (const bad of ['frobnicate', 'set DANE_ID', 'create ed25519', 'unset']) {
    assert.throws(
      () => parseTextCommand(bad),
      (e) => isDaneelError(e, 'ERR_USAGE'),
      bad,
    )
  }
})

test('JSON requests', () => {
  assert.deepEqual(parseJsonRequest('{"id":3,"op":"status"}'), { id: 3, req: { op: 'status' } })
  assert.deepEqual(parseJsonRequest('{"op":"set","key":"broker","value":"mqtt://h"}'), {
    id: null,
    req: { op: 'set', values: { broker: 'mqtt://h' } },
  })
  assert.deepEqual(parseJsonRequest('{"id":"a","op":"create","keyType":"p256","csr":true}'), {
    id: 'a',
    req: { op: 'create', keyType: 'p256', csr: true, force: false },
  })
  assert.deepEqual(parseJsonRequest('{"op":"unset","keys":["DNS_SERVER"]}').req, { op: 'unset', keys: ['DNS_SERVER'] })
  for (const bad of [
    '{',
    '[1]',
    'null',
    '{"op":"nope"}',
    '{"op":"set","values":{"A":1}}',
    '{"op":"install"}',
    '{"op":"create","keyType":"dsa"}',
    '{"op":"set"}',
  ]) {
    assert.throws(
      () => parseJsonRequest(bad),
      (e) => isDaneelError(e, 'ERR_USAGE'),
      bad,
    )
  }
})

test('replies: one JSON line with the id; text ends in ok or the error code', () => {
  const j = formatJsonReply(7, { ok: false, error: { code: 'ERR_USAGE', message: 'm' } })
  assert.ok(j.endsWith('\r\n'))
  assert.equal(j.trim().split('\n').length, 1)
  assert.deepEqual(JSON.parse(j), { v: 1, id: 7, ok: false, error: { code: 'ERR_USAGE', message: 'm' } })
  assert.equal(formatTextReply({ ok: true, lines: ['a', 'b'] }), 'a\r\nb\r\nok\r\n')
  assert.equal(formatTextReply({ ok: false, error: { code: 'ERR_PROVISION', message: 'no' } }), 'error ERR_PROVISION: no\r\n')
})
