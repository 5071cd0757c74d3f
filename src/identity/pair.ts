/** Reading a private key and its certificate as one consistent pair, even while a rotation replaces both. */

import type { KeyObject } from 'node:crypto'
import { DaneelError } from '../errors.js'
import { readPrivateKeyFile } from '../key-file.js'
import { isMissingFile, MAX_PEM_FILE_BYTES, readTextBounded } from '../read-file.js'
import { type Certificate, parseCertificate } from '../x509/cert.js'
import { keyMatchesCertificate, loadPrivateKey } from '../x509/keys.js'
import { pemDecode } from '../x509/pem.js'

/*
 * Why: a key and its certificate are two files (docs/contract.md "Files"), so no rename replaces both at once.
 * `identity rotate --commit` and `identity create --force` write both temp files first and then rename them back
 * to back, key first (src/fsutil.ts writeFilesAtomic). A reader that opens the key before the first rename and the
 * certificate after it (or the key just after the first rename and the certificate just before the second) holds
 * the new key with the old certificate or the reverse: seen in test/cli/identity-rotate, where a message sealed
 * every 50 ms reloads the identity, as "crt.pem does not hold the public key of key.pem" in 2 of many full runs.
 * That mismatch is a moment, not an error: the pair is read again until it matches. Only a mismatch that outlasts
 * PAIR_SETTLE_MS (a wrong certificate installed by hand, or a commit killed between its two renames, which
 * `identity rotate --commit` repairs when run again) is ERR_KEY_MISMATCH. 1 s is far above the gap between two
 * renames (no I/O in between; the data is fsynced before the first) even on a loaded machine.
 */

/** How long a mismatched pair is re-read before it is reported (ms). */
export const PAIR_SETTLE_MS = 1000
const PAIR_RETRY_MS = 5

export interface KeyPairFiles {
  key: KeyObject
  keyPem: string
  /** The certificate file's text, when it exists. */
  certPem?: string
  /** Its certificates: the identity certificate first, then any chain. */
  chain?: Certificate[]
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4))
/** A synchronous pause (the readers are synchronous: they run at start-up and in CLI commands). */
const pause = (ms: number): void => {
  Atomics.wait(sleepCell, 0, 0, ms)
}

function readOptional(read: () => string): string | undefined {
  try {
    return read()
  } catch (err) {
    if (isMissingFile(err)) return undefined
    throw err
  }
}

/**
 * Reads `keyPath` (private-key rules: bounded, not readable by others) and, when it exists, `certPath`, and checks
 * the first certificate carries the key. undefined when the key file does not exist. A mismatch is read again for
 * up to PAIR_SETTLE_MS (a rotation in progress), then ERR_KEY_MISMATCH.
 */
export function readKeyPair(keyPath: string, certPath: string, opts: { settleMs?: number } = {}): KeyPairFiles | undefined {
  const deadline = Date.now() + (opts.settleMs ?? PAIR_SETTLE_MS)
  for (;;) {
    const keyPem = readOptional(() => readPrivateKeyFile(keyPath))
    if (keyPem === undefined) return undefined
    const certPem = readOptional(() => readTextBounded(certPath, { maxBytes: MAX_PEM_FILE_BYTES, what: 'certificate' }))
    const key = loadPrivateKey(keyPem)
    if (certPem === undefined) return { key, keyPem }
    const chain = pemDecode(certPem, 'CERTIFICATE').map(parseCertificate)
    if (keyMatchesCertificate(key, chain[0] as Certificate)) return { key, keyPem, certPem, chain }
    if (Date.now() >= deadline) {
      throw new DaneelError(
        'ERR_KEY_MISMATCH',
        `${certPath} does not hold the public key of ${keyPath} (if a key rotation was interrupted, run: daneel identity rotate --commit)`,
      )
    }
    pause(PAIR_RETRY_MS)
  }
}
