/** The persisted sequence number: survives restarts, one write per block, never reused after a crash. */

import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { openSequence, sequencePath } from '../../messaging/sequence.js'
import { DaneelError } from '../../src/errors.js'
import { makeTempDir } from '../../testkit/paths.js'

test('a clean close resumes exactly; writes happen once per block', (t) => {
  const { dir, cleanup } = makeTempDir()
  t.after(cleanup)
  const path = sequencePath(join(dir, 'state'), 'node1.airquality._device.example.com')
  let writes = 0
  const counting = (p: string, d: string) => {
    writes++
    writeFileSync(p, d)
  }
  const s = openSequence(path, 100, counting)
  const got = Array.from({ length: 250 }, () => s.next())
  assert.deepEqual(
    got,
    Array.from({ length: 250 }, (_, i) => i),
  )
  assert.equal(writes, 3, 'reserved 100, 200, 300')
  s.close()
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).reserved, 250)
  const again = openSequence(path, 100)
  assert.equal(again.next(), 250)
  again.close()
})

test('after a crash (no close) numbers skip at most one block and are never reused', (t) => {
  const { dir, cleanup } = makeTempDir()
  t.after(cleanup)
  const path = join(dir, 'seq.json')
  const a = openSequence(path, 10)
  for (let i = 0; i < 15; i++) a.next() // used 0..14, reserved up to 20; then "kill -9"
  const b = openSequence(path, 10)
  const first = b.next()
  assert.ok(first >= 15 && first <= 20, `resumed at ${first}`)
  b.close()
})

test('a corrupt state file is refused, not silently restarted at 0', (t) => {
  const { dir, cleanup } = makeTempDir()
  t.after(cleanup)
  const path = join(dir, 'seq.json')
  writeFileSync(path, '{"reserved": -3}')
  assert.throws(
    () => openSequence(path, 10),
    (e: unknown) => e instanceof DaneelError && e.code === 'ERR_IO' && /corrupt/.test(e.message),
  )
  writeFileSync(path, 'garbage')
  assert.throws(
    () => openSequence(path, 10),
    (e: unknown) => e instanceof DaneelError && e.code === 'ERR_IO',
  )
})

test('sequence files are per sender and safe as file names', () => {
  assert.notEqual(sequencePath('/s', 'a.example'), sequencePath('/s', 'b.example'))
  assert.equal(sequencePath('/s', 'x/../y'), '/s/seq.x_.._y.json')
})
