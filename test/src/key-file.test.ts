/** Private key files: refused when group or others may read them (OpenSSH's rule), with the file and `chmod 600` named. */

import assert from 'node:assert/strict'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { isDaneelError } from '../../src/errors.js'
import { createIdentity, loadIdentity } from '../../src/identity/store.js'
import { checkKeyFileMode, readPrivateKeyFile } from '../../src/key-file.js'
import { makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-key-file-')
after(tmp.cleanup)
const NAME = 'perm1.airquality._device.example.test'

const tooOpen = (path: string, mode: string) => (e: unknown) =>
  isDaneelError(e, 'ERR_KEY_PERMISSIONS') &&
  e.message.includes(`${path} has permissions ${mode}`) &&
  e.message.includes(`chmod 600 ${path}`)

test('a key we own is read at 0600 and 0400, refused with any group or other bit', () => {
  const p = join(tmp.dir, 'k.pem')
  writeFileSync(p, 'KEY', { mode: 0o600 })
  for (const ok of [0o600, 0o400]) {
    chmodSync(p, ok)
    assert.equal(readPrivateKeyFile(p), 'KEY')
  }
  for (const bad of [0o644, 0o640, 0o604, 0o660, 0o620, 0o602, 0o777]) {
    chmodSync(p, bad)
    assert.throws(() => readPrivateKeyFile(p), tooOpen(p, `0${bad.toString(8)}`), bad.toString(8))
  }
})

test("another owner's key shared through its group (0640 root:daneel) is allowed; any other bit is refused whoever owns it", () => {
  const file = (mode: number, uid: number) => ({ mode: 0o100000 | mode, uid, isFile: () => true })
  const me = 1000
  assert.doesNotThrow(() => checkKeyFileMode(file(0o640, 0), '/k', me))
  assert.doesNotThrow(() => checkKeyFileMode(file(0o600, 0), '/k', me))
  assert.throws(() => checkKeyFileMode(file(0o644, 0), '/k', me), tooOpen('/k', '0644'))
  assert.throws(() => checkKeyFileMode(file(0o640, me), '/k', me), tooOpen('/k', '0640'))
  // a pipe or a terminal (--key /dev/stdin) has no file mode to judge
  assert.doesNotThrow(() => checkKeyFileMode({ mode: 0o010666, uid: me, isFile: () => false }, '/dev/stdin', me))
})

test('loadIdentity refuses an identity whose key became world-readable, and loads it again after chmod 600', () => {
  const cryptoPath = join(tmp.dir, 'crypto')
  const { paths } = createIdentity({ cryptoPath, daneId: NAME })
  chmodSync(paths.key, 0o644)
  assert.throws(() => loadIdentity(cryptoPath, NAME), tooOpen(paths.key, '0644'))
  chmodSync(paths.key, 0o600)
  assert.equal(loadIdentity(cryptoPath, NAME).name, NAME)
})
