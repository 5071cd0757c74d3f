/** Atomic writes and directory creation: modes, no temp files left behind, typed errors (no hang under /proc). */

import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { isDaneelError } from '../../src/errors.js'
import { ensureDir, writeFileAtomic } from '../../src/fsutil.js'
import { makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir()
after(tmp.cleanup)

test('writeFileAtomic replaces content, applies the mode at creation, leaves no temp file', () => {
  const p = join(tmp.dir, 'k.pem')
  writeFileAtomic(p, 'one', { mode: 0o600 })
  writeFileAtomic(p, new Uint8Array([116, 119, 111]), { mode: 0o600 })
  assert.equal(readFileSync(p, 'utf8'), 'two')
  assert.equal(statSync(p).mode & 0o777, 0o600)
  assert.deepEqual(
    readdirSync(tmp.dir).filter((n) => n.endsWith('.tmp')),
    [],
  )
})

test('writeFileAtomic into a missing directory is ERR_IO and writes nothing', () => {
  const p = join(tmp.dir, 'missing', 'x')
  assert.throws(
    () => writeFileAtomic(p, 'x'),
    (e: unknown) => isDaneelError(e, 'ERR_IO') && e.message.includes('ENOENT'),
  )
  assert.equal(existsSync(p), false)
})

test('ensureDir creates parents, accepts existing dirs, and fails typed (not hangs) under /proc or a file', () => {
  const d = join(tmp.dir, 'a', 'b', 'c')
  ensureDir(d)
  ensureDir(d)
  assert.ok(statSync(d).isDirectory())
  assert.throws(
    () => ensureDir('/proc/daneel-test/x'),
    (e: unknown) => isDaneelError(e, 'ERR_IO'),
  )
  const f = join(tmp.dir, 'file')
  writeFileSync(f, '')
  assert.throws(
    () => ensureDir(join(f, 'sub')),
    (e: unknown) => isDaneelError(e, 'ERR_IO'),
  )
})
