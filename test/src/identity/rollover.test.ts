/** Rollover files: stage/commit/finish are idempotent and every interruption is repaired by running the step again. */

import assert from 'node:assert/strict'
import type { KeyObject } from 'node:crypto'
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { isDaneelError } from '../../../src/errors.js'
import { commitNext, decryptionKeys, finishRollover, readRollover, rolloverPaths, stageNext } from '../../../src/identity/rollover.js'
import { buildSelfSignedCertificate } from '../../../src/x509/build.js'
import { generateKeyPair, privateKeyToPkcs8Pem, spkiOf } from '../../../src/x509/keys.js'
import { pemEncode } from '../../../src/x509/pem.js'
import { makeTempDir } from '../../../testkit/paths.js'

const NAME = 'dev9._device.example.test'

function createIdentity(dir: string): void {
  const { privateKey } = generateKeyPair('p256')
  const p = rolloverPaths(dir, NAME)
  writeFileSync(p.key, privateKeyToPkcs8Pem(privateKey), { mode: 0o600 })
  writeFileSync(p.cert, pemEncode(buildSelfSignedCertificate({ name: NAME, key: privateKey }), 'CERTIFICATE'))
}

test('stage → commit → finish, with interruptions at each step', () => {
  const tmp = makeTempDir('daneel-rollover-')
  try {
    const dir = tmp.dir
    const p = rolloverPaths(dir, NAME)
    assert.throws(
      () => stageNext(dir, NAME, { now: 1 }),
      (e) => isDaneelError(e, 'ERR_IDENTITY_MISSING'),
    )
    createIdentity(dir)
    const oldKey = readFileSync(p.key, 'utf8')

    // interrupted stage: the next key was written, its certificate and the state were not
    const first = stageNext(dir, NAME, { now: 1 })
    const nextKey = readFileSync(p.nextKey, 'utf8')
    rmSync(p.nextCert)
    rmSync(p.state)
    const again = stageNext(dir, NAME, { now: 2 })
    assert.equal(readFileSync(p.nextKey, 'utf8'), nextKey, 'the staged key is reused, not replaced')
    assert.deepEqual(spkiOf(again.next.key), spkiOf(first.next.key))
    assert.equal(statSync(p.nextKey).mode & 0o777, 0o600)
    assert.equal(readRollover(dir, NAME)?.phase, 'staged')
    // staging twice is harmless
    assert.equal(stageNext(dir, NAME, { now: 3 }).state.stagedAt, 2)
    assert.equal(decryptionKeys(dir, NAME).length, 2, 'current + staged next')

    // interrupted commit: the current key was switched, the certificate was not
    writeFileSync(p.prevKey, oldKey, { mode: 0o600 })
    writeFileSync(p.prevCert, readFileSync(p.cert))
    writeFileSync(p.key, nextKey, { mode: 0o600 })
    writeFileSync(p.state, JSON.stringify({ ...readRollover(dir, NAME), phase: 'committing' }))
    const done = commitNext(dir, NAME, { now: 10 })
    assert.equal(done.phase, 'committed')
    assert.equal(readFileSync(p.key, 'utf8'), nextKey)
    assert.equal(readFileSync(p.prevKey, 'utf8'), oldKey, 'the old key is kept, not overwritten by the new one')
    assert.ok(!existsSync(p.nextKey) && !existsSync(p.nextCert))
    assert.deepEqual(spkiOf(again.next.key), spkiOf(decryptionKeys(dir, NAME)[0] as KeyObject))
    assert.equal(decryptionKeys(dir, NAME).length, 2, 'current + previous')
    assert.equal(commitNext(dir, NAME, { now: 11 }).committedAt, 10, 'committing twice is harmless')
    assert.throws(
      () => stageNext(dir, NAME, { now: 12 }),
      (e) => isDaneelError(e, 'ERR_USAGE'),
    )

    finishRollover(dir, NAME)
    assert.equal(readRollover(dir, NAME), undefined)
    assert.ok(!existsSync(p.prevKey))
    assert.equal(decryptionKeys(dir, NAME).length, 1)
  } finally {
    tmp.cleanup()
  }
})

test('a clean commit moves the old pair to .prev', () => {
  const tmp = makeTempDir('daneel-rollover2-')
  try {
    const dir = tmp.dir
    const p = rolloverPaths(dir, NAME)
    createIdentity(dir)
    const oldCert = readFileSync(p.cert, 'utf8')
    const { next } = stageNext(dir, NAME, { now: 1 })
    commitNext(dir, NAME, { now: 2 })
    assert.equal(readFileSync(p.prevCert, 'utf8'), oldCert)
    assert.equal(readFileSync(p.cert, 'utf8'), next.certPem)
    assert.throws(
      () => commitNext(`${dir}/none`, NAME, { now: 3 }),
      (e) => isDaneelError(e, 'ERR_USAGE'),
    )
  } finally {
    tmp.cleanup()
  }
})
