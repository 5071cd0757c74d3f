/** Reading a private key file: bounded, and refused when other users may read it (OpenSSH's rule, made stricter). */

import type { Stats } from 'node:fs'
import { DaneelError } from './errors.js'
import { MAX_PEM_FILE_BYTES, readTextBounded } from './read-file.js'

/*
 * OpenSSH refuses a private key that is "too open" (sshkey.c sshkey_perm_ok): owned by the user running it and
 * with any group or other permission bit set, "UNPROTECTED PRIVATE KEY FILE!". A key someone else may read is
 * no longer only ours; loading it without a word hides the leak. We refuse it the same way, and go one step
 * further: a key any user on the machine may read or write (an "other" bit) is refused whoever owns it, since
 * no owner makes that safe. A key owned by another user (root) and shared through its group (0640 root:daneel) is
 * the one deliberate exception OpenSSH allows, and so do we.
 *
 * No exception for tests or CI: `daneel identity create` writes keys 0600, and tests write theirs 0600 too.
 * Only regular files are checked: a key passed through a pipe (`--key /dev/stdin`) has no such mode.
 */

/** The check on an open key file's fstat: ERR_KEY_PERMISSIONS naming the file, its mode and the fix. */
export function checkKeyFileMode(st: Pick<Stats, 'mode' | 'uid' | 'isFile'>, path: string, uid = process.geteuid?.()): void {
  if (!st.isFile()) return
  const mode = st.mode & 0o777
  const ours = uid === undefined || st.uid === uid
  const open = ours ? mode & 0o077 : mode & 0o007
  if (open === 0) return
  throw new DaneelError(
    'ERR_KEY_PERMISSIONS',
    `private key ${path} has permissions 0${mode.toString(8).padStart(3, '0')}: readable or writable by ${ours ? 'group or others' : 'others'}; refusing to use it (fix: chmod 600 ${path})`,
  )
}

/** Reads a PEM private key file: at most MAX_PEM_FILE_BYTES, and only when no other user may read it. */
export function readPrivateKeyFile(path: string, what = 'private key'): string {
  return readTextBounded(path, { maxBytes: MAX_PEM_FILE_BYTES, what, check: (st) => checkKeyFileMode(st, path) })
}
