/** The error catalogue is tested against its docs and its uses: every code in ERROR_CODES has a row in docs/errors.md and is raised. */

import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { DaneelError, ERROR_CODES, INPUT_ERROR_CODES, isDaneelError } from '../../src/errors.js'
import { repoPath } from '../../testkit/paths.js'

const docs = readFileSync(repoPath('docs/errors.md'), 'utf8')
const documented = [...docs.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1])

/** The TypeScript sources that ship: every folder tsconfig compiles except tests, benches and their shared kit. */
function shippedSources(): string[] {
  const tsconfig = JSON.parse(readFileSync(repoPath('tsconfig.json'), 'utf8')) as { include: string[] }
  const roots = tsconfig.include.filter((d) => !['test', 'bench', 'testkit'].includes(d))
  assert.ok(roots.includes('src') && roots.includes('cli'), `tsconfig include: ${tsconfig.include.join(', ')}`)
  return roots.flatMap((root) =>
    (readdirSync(repoPath(root), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => join(root, f)),
  )
}

test('every code in ERROR_CODES is documented once, and every documented code is in ERROR_CODES', () => {
  assert.ok(ERROR_CODES.length > 20)
  assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length, 'no code listed twice')
  assert.equal(new Set(documented).size, documented.length, 'no code documented twice')
  assert.deepEqual([...documented].sort(), [...ERROR_CODES].sort())
})

test('every code in ERROR_CODES is raised (or handed to a DaneelError) somewhere outside src/errors.ts: no entry without a use', () => {
  const text = shippedSources()
    .filter((f) => f !== join('src', 'errors.ts'))
    .map((f) => readFileSync(repoPath(f), 'utf8'))
    .join('\n')
  const unused = ERROR_CODES.filter((code) => !text.includes(`'${code}'`))
  assert.deepEqual(unused, [])
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
