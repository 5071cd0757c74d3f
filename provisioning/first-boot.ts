/** Unattended first boot (the Balena block, `daneel provision --first-boot`): create the identity if missing, say what to publish, wait until DNS matches. */

import { existsSync } from 'node:fs'
import { DaneelError } from '../src/errors.js'
import { ensureDir } from '../src/fsutil.js'
import { MAX_PEM_FILE_BYTES, readTextBounded } from '../src/read-file.js'
import type { EnvSettings } from './env-file.js'
import type { IdentityOps } from './session.js'
import { identityPaths, isFinished, type KeyType, markFinished } from './state.js'

export interface FirstBootOptions {
  cryptoPath: string
  /** The settings from the environment (the block's env vars): DANE_ID, NO_DNSSEC, DNS_SERVER, ... */
  settings: EnvSettings
  keyType: KeyType
  uid: number | undefined
  identity: IdentityOps
  /** Wait (polling DNS) until the published identity matches; false checks once. */
  wait: boolean
  /** One line of output (to the container log). */
  write: (line: string) => void
}

/** Returns the exit status: 0 when the published identity matches, 1 while it does not (or a CSR awaits its certificate). */
export async function firstBoot(o: FirstBootOptions): Promise<number> {
  const daneId = o.settings.DANE_ID
  if (daneId === undefined || daneId === '') throw new DaneelError('ERR_USAGE', 'no identity name: set DANE_ID (or IDENTITY_NAME)')
  const noDnssec = /^(1|true|yes|on)$/i.test(o.settings.NO_DNSSEC ?? '')
  ensureDir(o.cryptoPath, 0o700)
  if (isFinished(o.cryptoPath)) {
    // Matched once already: from here on `daneel monitor` watches DNS; a restart must not wait on it.
    o.write(`identity ${daneId} is provisioned`)
    return 0
  }
  const p = identityPaths(o.cryptoPath, daneId)
  const hasKey = existsSync(p.key)
  if (hasKey && !existsSync(p.crt) && existsSync(p.csr)) {
    // A CA-signed identity: nothing to publish until the CA's certificate is installed.
    o.write(`identity ${daneId} waits for its CA-signed certificate; send this CSR to the CA, then run daneel identity install CERT:`)
    for (const l of readTextBounded(p.csr, { maxBytes: MAX_PEM_FILE_BYTES, what: 'CSR' }).trim().split('\n')) o.write(l)
    return 1
  }
  if (!hasKey || !existsSync(p.crt)) {
    // No key, or a key whose certificate never got written (a power cut mid-create): nothing was published from it.
    await o.identity.create({ cryptoPath: o.cryptoPath, daneId, keyType: o.keyType, csr: false, noDnssec, uid: o.uid, force: true })
    o.write(`created a ${o.keyType} identity for ${daneId}`)
  } else {
    o.write(`identity ${daneId} exists`)
  }
  o.write('publish this TLSA record in DNS:')
  for (const line of await o.identity.tlsa({ cryptoPath: o.cryptoPath, daneId, noDnssec })) o.write(`  ${line}`)
  if (noDnssec) {
    const url = await o.identity.pkixCdUrl({ cryptoPath: o.cryptoPath, daneId })
    if (url !== undefined) o.write(`NO_DNSSEC: serve the CA certificate (for a self-signed identity, the certificate itself) at ${url}`)
  }
  o.write(o.wait ? 'waiting until DNS serves the matching record (daneel identity check --wait)' : 'checking DNS once')
  const res = await o.identity.check({ cryptoPath: o.cryptoPath, settings: o.settings, wait: o.wait, onLine: o.write })
  if (!res.ok) {
    o.write('published identity does not match yet')
    return 1
  }
  markFinished(o.cryptoPath, daneId)
  o.write('published identity matches: provisioned')
  return 0
}
