/** Key rollover on disk (RFC 7671 §8.1 "current + next"): stage, commit, finish; every step re-runnable after a crash. */

import type { KeyObject } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { DaneelError } from '../errors.js'
import { writeFileAtomic, writeFilesAtomic } from '../fsutil.js'
import { readPrivateKeyFile } from '../key-file.js'
import { isMissingFile, MAX_CONFIG_FILE_BYTES, readTextBounded } from '../read-file.js'
import { buildSelfSignedCertificate } from '../x509/build.js'
import { type Certificate, parseCertificate } from '../x509/cert.js'
import { generateKeyPair, keyTypeOptionOf, loadPrivateKey, privateKeyToPkcs8Pem } from '../x509/keys.js'
import { pemEncode } from '../x509/pem.js'
import { readKeyPair } from './pair.js'

export type RolloverPhase = 'staged' | 'committing' | 'committed'

export interface RolloverState {
  version: 1
  name: string
  phase: RolloverPhase
  stagedAt: number
  /** When validated DNS first showed the next record (the old-TTL wait counts from here). */
  nextSeenAt?: number
  /** The longest TTL seen for the RRset (seconds): caches may serve the old RRset this long. */
  ttl?: number
  committedAt?: number
  /** When validated DNS first no longer showed the old record (the previous key is discarded a TTL later). */
  oldGoneAt?: number
}

/** Files of one identity: the docs/contract.md "Files" names, plus `.next.*` (staged) and `.prev.*` (kept until --finish). */
export function rolloverPaths(cryptoPath: string, name: string) {
  const f = (suffix: string): string => join(cryptoPath, `${name}.${suffix}`)
  return {
    key: f('key.pem'),
    cert: f('crt.pem'),
    nextKey: f('next.key.pem'),
    nextCert: f('next.crt.pem'),
    prevKey: f('prev.key.pem'),
    prevCert: f('prev.crt.pem'),
    state: f('rollover.json'),
  }
}

export interface KeyPair {
  key: KeyObject
  keyPem: string
  cert: Certificate
  certPem: string
}

/** A file's text (bounded), or undefined when it does not exist. */
function readText(path: string, what: string): string | undefined {
  try {
    return readTextBounded(path, { maxBytes: MAX_CONFIG_FILE_BYTES, what })
  } catch (err) {
    if (isMissingFile(err)) return undefined
    throw err
  }
}

/** A private key file's text (bounded, not readable by others: src/key-file.ts), or undefined when it does not exist. */
function readKeyText(path: string): string | undefined {
  try {
    return readPrivateKeyFile(path)
  } catch (err) {
    if (isMissingFile(err)) return undefined
    throw err
  }
}

/**
 * Reads a key + certificate pair; undefined when either file is missing; ERR_KEY_MISMATCH when they disagree (after
 * src/identity/pair.ts has waited out a rotation in progress).
 */
export function readPair(keyPath: string, certPath: string): KeyPair | undefined {
  const pair = readKeyPair(keyPath, certPath)
  if (pair?.certPem === undefined || pair.chain === undefined) return undefined
  return { key: pair.key, keyPem: pair.keyPem, cert: pair.chain[0] as Certificate, certPem: pair.certPem }
}

export function readRollover(cryptoPath: string, name: string): RolloverState | undefined {
  const text = readText(rolloverPaths(cryptoPath, name).state, 'rollover state')
  if (text === undefined) return undefined
  try {
    const s = JSON.parse(text) as RolloverState
    if (s.version === 1 && s.name === name) return s
  } catch {
    // fall through
  }
  throw new DaneelError('ERR_CONFIG_INVALID', `${rolloverPaths(cryptoPath, name).state} is not a rollover state file`)
}

export function writeRollover(cryptoPath: string, state: RolloverState): void {
  writeFileAtomic(rolloverPaths(cryptoPath, state.name).state, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
}

export interface StageOptions {
  now: number
  appUid?: number | undefined
  days?: number
  /** NO_DNSSEC identities anchor their own PKIX-CD chain (CA:TRUE, keyCertSign), like `identity create`. */
  ca?: boolean
}

/**
 * Stages the next key and certificate (same key type as the current one). Idempotent: a staged pair is reused;
 * a next key without its certificate (interrupted run) gets its certificate now; the state file is written last.
 */
export function stageNext(cryptoPath: string, name: string, opts: StageOptions): { state: RolloverState; current: KeyPair; next: KeyPair } {
  const p = rolloverPaths(cryptoPath, name)
  const current = readPair(p.key, p.cert)
  if (current === undefined)
    throw new DaneelError('ERR_IDENTITY_MISSING', `no identity ${name} in ${cryptoPath} (run: daneel identity create)`)
  const existing = readRollover(cryptoPath, name)
  if (existing !== undefined && existing.phase !== 'staged') {
    throw new DaneelError('ERR_USAGE', `a rollover of ${name} is ${existing.phase}: finish it before staging another`)
  }
  let keyPem = readKeyText(p.nextKey)
  if (keyPem === undefined) {
    keyPem = privateKeyToPkcs8Pem(generateKeyPair(keyTypeOptionOf(current.key)).privateKey)
    writeFileAtomic(p.nextKey, keyPem, { mode: 0o600, uid: opts.appUid })
  }
  const key = loadPrivateKey(keyPem)
  let next = readPair(p.nextKey, p.nextCert)
  if (next === undefined) {
    const der = buildSelfSignedCertificate({ name, key, now: opts.now, days: opts.days ?? 365, ...(opts.ca === true ? { ca: true } : {}) })
    const certPem = pemEncode(der, 'CERTIFICATE')
    writeFileAtomic(p.nextCert, certPem, { mode: 0o644, uid: opts.appUid })
    next = { key, keyPem, cert: parseCertificate(der), certPem }
  }
  const state: RolloverState = existing ?? { version: 1, name, phase: 'staged', stagedAt: opts.now }
  if (existing === undefined) writeRollover(cryptoPath, state)
  return { state, current, next }
}

/**
 * Switches the identity to the staged next key. The caller checks DNS first (see rotate --commit). Order, so that
 * any interruption is repaired by running it again: state → committing; old pair → .prev (unless already
 * switched); next pair → current; .next removed; state → committed.
 */
export function commitNext(cryptoPath: string, name: string, opts: { now: number; appUid?: number | undefined }): RolloverState {
  const p = rolloverPaths(cryptoPath, name)
  const state = readRollover(cryptoPath, name)
  if (state === undefined) throw new DaneelError('ERR_USAGE', `no rollover of ${name} staged (run: daneel identity rotate)`)
  if (state.phase === 'committed') return state
  const committing: RolloverState = { ...state, phase: 'committing' }
  writeRollover(cryptoPath, committing)
  const nextKeyPem = readKeyText(p.nextKey)
  const nextCertPem = readText(p.nextCert, 'certificate')
  if (nextKeyPem !== undefined && nextCertPem !== undefined) {
    const curKeyPem = readKeyText(p.key)
    const uid = { uid: opts.appUid }
    if (curKeyPem !== undefined && curKeyPem !== nextKeyPem) {
      writeFilesAtomic(
        [
          { path: p.prevKey, data: curKeyPem, mode: 0o600 },
          { path: p.prevCert, data: readText(p.cert, 'certificate') ?? '', mode: 0o644 },
        ],
        uid,
      )
    }
    // both written first, then renamed back to back, key first: readers (src/identity/pair.ts) never see half
    writeFilesAtomic(
      [
        { path: p.key, data: nextKeyPem, mode: 0o600 },
        { path: p.cert, data: nextCertPem, mode: 0o644 },
      ],
      uid,
    )
    rmSync(p.nextKey, { force: true })
    rmSync(p.nextCert, { force: true })
  } else {
    if (readPair(p.key, p.cert) === undefined)
      throw new DaneelError('ERR_IDENTITY_MISSING', `rollover of ${name}: neither the staged nor the current pair is complete`)
    rmSync(p.nextKey, { force: true })
    rmSync(p.nextCert, { force: true })
  }
  const done: RolloverState = { ...state, phase: 'committed', committedAt: opts.now }
  writeRollover(cryptoPath, done)
  return done
}

/** Ends a committed rollover: removes the previous key (after the old record is gone from DNS) and the state. */
export function finishRollover(cryptoPath: string, name: string): void {
  const p = rolloverPaths(cryptoPath, name)
  rmSync(p.prevKey, { force: true })
  rmSync(p.prevCert, { force: true })
  rmSync(p.state, { force: true })
}

/**
 * Every private key the identity may need to decrypt with during a rollover: the current one first, then the
 * staged next key (peers may already encrypt to it once it is published) and the previous one (caches may still
 * hand out the old record until --finish).
 */
export function decryptionKeys(cryptoPath: string, name: string): KeyObject[] {
  const p = rolloverPaths(cryptoPath, name)
  const out: KeyObject[] = []
  for (const path of [p.key, p.nextKey, p.prevKey]) {
    const pem = readKeyText(path)
    if (pem !== undefined) out.push(loadPrivateKey(pem))
  }
  return out
}
