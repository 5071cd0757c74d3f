/** The error catalogue is tested against its docs: every code in src/errors.ts has a row in docs/errors.md. */

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { DaneelError, INPUT_ERROR_CODES, isDaneelError } from '../../src/errors.js'
import { repoPath } from '../helpers/paths.js'

const source = readFileSync(repoPath('src/errors.ts'), 'utf8')
const union = source.slice(source.indexOf('export type ErrorCode'), source.indexOf('/** The one error class'))
const codes = [...union.matchAll(/'(ERR_[A-Z0-9_]+)'/g)].map((m) => m[1])
const docs = readFileSync(repoPath('docs/errors.md'), 'utf8')
const documented = [...docs.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1])

test('every error code is documented, and every documented code exists', () => {
  assert.ok(codes.length > 20)
  assert.deepEqual([...new Set(documented)].sort(), [...new Set(codes)].sort())
})

test('input codes are marked as input in the docs', () => {
  for (const code of INPUT_ERROR_CODES) {
    assert.match(docs, new RegExp(`\\| \`${code}\` \\| \\*input\\*`), code)
  }
})

test('DaneelError carries its code and cause', () => {
  const cause = new Error('inner')
  const err = new DaneelError('ERR_TLSA_NO_MATCH', 'no match', { cause })
  assert.equal(err.code, 'ERR_TLSA_NO_MATCH')
  assert.equal(err.cause, cause)
  assert.ok(isDaneelError(err, 'ERR_TLSA_NO_MATCH'))
  assert.ok(!isDaneelError(err, 'ERR_USAGE'))
  assert.ok(!isDaneelError(new Error('x')))
})
