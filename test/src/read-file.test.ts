/** Bounded file reads: /dev/zero, huge files, directories and missing files fail fast and typed; normal files read whole. */

import assert from 'node:assert/strict'
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { loadTrustAnchors } from '../../src/dns/dnssec/anchors.js'
import { isDaneelError } from '../../src/errors.js'
import { isMissingFile, MAX_CONFIG_FILE_BYTES, readFileBounded, readTextBounded } from '../../src/read-file.js'
import { makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-read-file-')
after(tmp.cleanup)

test('a file within the cap is read whole, also across several read chunks; exactly the cap is allowed', () => {
  const p = join(tmp.dir, 'ok.txt')
  const body = Buffer.alloc(200_000, 0x61)
  writeFileSync(p, body)
  assert.deepEqual(readFileBounded(p, { maxBytes: 200_000 }), body)
  writeFileSync(p, 'hello')
  assert.equal(readTextBounded(p, { maxBytes: 5 }), 'hello')
  writeFileSync(p, '')
  assert.equal(readTextBounded(p, { maxBytes: 5 }), '')
})

test('a regular file over the cap fails before it is read (a sparse 8 GiB file costs nothing)', () => {
  const p = join(tmp.dir, 'huge.pem')
  writeFileSync(p, '')
  truncateSync(p, 8 * 1024 ** 3)
  assert.throws(
    () => readTextBounded(p, { maxBytes: 1024, what: 'certificate' }),
    (e: unknown) => isDaneelError(e, 'ERR_IO') && /certificate .*huge\.pem is larger than 1024 bytes/.test(e.message),
  )
})

test('/dev/zero and /dev/urandom (no EOF, size 0 in stat) stop at cap + 1 bytes with ERR_IO', () => {
  for (const dev of ['/dev/zero', '/dev/urandom']) {
    assert.throws(
      () => readFileBounded(dev, { maxBytes: MAX_CONFIG_FILE_BYTES, what: 'config' }),
      (e: unknown) => isDaneelError(e, 'ERR_IO') && e.message.includes(`config ${dev} is larger than ${MAX_CONFIG_FILE_BYTES} bytes`),
    )
  }
})

test('a directory, a missing file: ERR_IO naming the file; isMissingFile tells the second apart', () => {
  const d = join(tmp.dir, 'adir')
  mkdirSync(d)
  assert.throws(
    () => readFileBounded(d, { maxBytes: 10 }),
    (e: unknown) => isDaneelError(e, 'ERR_IO') && e.message.includes('is a directory') && !isMissingFile(e),
  )
  assert.throws(
    () => readFileBounded(join(tmp.dir, 'nope'), { maxBytes: 10 }),
    (e: unknown) => isDaneelError(e, 'ERR_IO') && e.message.includes('ENOENT') && isMissingFile(e),
  )
  assert.throws(() => readFileBounded(d, { maxBytes: -1 }), RangeError)
})

test('DNSSEC_TRUST_ANCHORS=/dev/zero fails fast with ERR_CONFIG_INVALID naming the setting (it used to read forever)', () => {
  assert.throws(
    () => loadTrustAnchors('/dev/zero'),
    (e: unknown) => isDaneelError(e, 'ERR_CONFIG_INVALID') && e.message.includes('DNSSEC_TRUST_ANCHORS file /dev/zero is larger than'),
  )
})
