/** Provisioning progress: a small state file plus what is on disk, so a power cut leaves a state a rerun resumes from. */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { DaneelError } from '../src/errors.js'
import { fsyncDir, writeFileAtomic } from '../src/fsutil.js'
import { isMissingFile, MAX_CONFIG_FILE_BYTES, MAX_PEM_FILE_BYTES, readFileBounded, readTextBounded } from '../src/read-file.js'
import { type EnvSettings, readEnvFile } from './env-file.js'

/** File names inside CRYPTO_PATH (documented in provisioning/README.md). */
export const ENV_FILE = 'daneel.env'
export const STATE_FILE = 'provision.json'
/**
 * Written last by `finish`: a symlink to `${DANE_ID}.key.pem`. daneel-provision.service has
 * `ConditionPathExists=!` on it: a fixed path (the key's own name depends on DANE_ID, which the unit
 * cannot know), and since conditions follow symlinks, deleting the key re-arms provisioning.
 */
export const DONE_LINK = 'provisioned.key.pem'

export type KeyType = 'p256' | 'rsa2048'

/** What the state file holds: only what cannot be read back from the identity files themselves. */
export interface ProvisionRecord {
  v: 1
  keyType?: KeyType
  csr?: boolean
  /** The last DNS self-check that passed, bound to the certificate it checked. */
  dnsCheck?: { at: string; certSha256: string }
}

export type IdentityState = 'none' | 'partial' | 'csr' | 'certificate'
export type NextStep = 'set' | 'create' | 'install' | 'check' | 'finish' | 'done'

export interface ProvisionStatus {
  settings: EnvSettings
  identity: IdentityState
  dnsChecked: boolean
  finished: boolean
  next: NextStep
  record: ProvisionRecord
}

export function identityPaths(cryptoPath: string, daneId: string): { key: string; crt: string; csr: string } {
  return {
    key: join(cryptoPath, `${daneId}.key.pem`),
    crt: join(cryptoPath, `${daneId}.crt.pem`),
    csr: join(cryptoPath, `${daneId}.csr.pem`),
  }
}

export function readRecord(cryptoPath: string): ProvisionRecord {
  let text: string
  try {
    text = readTextBounded(join(cryptoPath, STATE_FILE), { maxBytes: MAX_CONFIG_FILE_BYTES, what: 'provisioning state' })
  } catch (err) {
    if (isMissingFile(err)) return { v: 1 }
    throw err
  }
  try {
    const rec = JSON.parse(text) as ProvisionRecord
    if (rec === null || typeof rec !== 'object' || rec.v !== 1) throw new Error('not a v1 record')
    return rec
  } catch (err) {
    // Written atomically, so this is damage from outside; the identity files still say how far we got.
    throw new DaneelError('ERR_PROVISION', `${STATE_FILE} is unreadable; remove it to start the checks again`, { cause: err })
  }
}

export function writeRecord(cryptoPath: string, rec: ProvisionRecord, uid?: number): void {
  writeFileAtomic(join(cryptoPath, STATE_FILE), `${JSON.stringify(rec, null, 2)}\n`, { mode: 0o600, uid })
}

/** SHA-256 of the certificate file's bytes: ties a passed DNS check to the exact certificate checked. */
export function certFingerprint(path: string): string | undefined {
  try {
    return createHash('sha256')
      .update(readFileBounded(path, { maxBytes: MAX_PEM_FILE_BYTES, what: 'certificate' }))
      .digest('hex')
  } catch {
    return undefined
  }
}

/** Reads settings, record and files and says how far provisioning got and what comes next. */
export function readStatus(cryptoPath: string, envPath = join(cryptoPath, ENV_FILE)): ProvisionStatus {
  const settings = readEnvFile(envPath)
  const record = readRecord(cryptoPath)
  const daneId = settings.DANE_ID
  let identity: IdentityState = 'none'
  let dnsChecked = false
  if (daneId !== undefined && daneId !== '') {
    const p = identityPaths(cryptoPath, daneId)
    const key = existsSync(p.key)
    if (key && existsSync(p.crt)) identity = 'certificate'
    else if (key && existsSync(p.csr)) identity = 'csr'
    else if (key || existsSync(p.crt) || existsSync(p.csr)) identity = 'partial'
    const fp = identity === 'certificate' ? certFingerprint(p.crt) : undefined
    dnsChecked = fp !== undefined && record.dnsCheck?.certSha256 === fp
  }
  const finished = isFinished(cryptoPath)
  const broker = settings.MQTT_URL ?? settings.MQTT_HOST
  let next: NextStep
  if (finished) next = 'done'
  else if (daneId === undefined || daneId === '' || broker === undefined) next = 'set'
  else if (identity === 'none' || identity === 'partial') next = 'create'
  else if (identity === 'csr') next = 'install'
  else if (!dnsChecked) next = 'check'
  else next = 'finish'
  return { settings, identity, dnsChecked, finished, next, record }
}

/** True when the done link exists and still points at an existing key. */
export function isFinished(cryptoPath: string): boolean {
  return existsSync(join(cryptoPath, DONE_LINK))
}

/** Atomically points the done link at the key (symlink to a temp name, then rename over). */
export function markFinished(cryptoPath: string, daneId: string): void {
  const link = join(cryptoPath, DONE_LINK)
  const tmp = join(cryptoPath, `.${DONE_LINK}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    symlinkSync(`${daneId}.key.pem`, tmp)
    renameSync(tmp, link)
    fsyncDir(cryptoPath)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw new DaneelError('ERR_IO', `cannot write ${link}: ${(err as NodeJS.ErrnoException).code ?? ''}`, { cause: err })
  }
}

/** The key file the done link names, if any (for status and tests). */
export function finishedKeyName(cryptoPath: string): string | undefined {
  try {
    return readlinkSync(join(cryptoPath, DONE_LINK))
  } catch {
    return undefined
  }
}
