/** Assertions that code fails with one DaneelError code (docs/errors.md): a typed error, never a crash or another code. */
import assert from 'node:assert/strict'
import { type ErrorCode, isDaneelError } from '../src/errors.js'

/** Asserts that `fn` throws a DaneelError with `code`. */
export function throwsCode(fn: () => unknown, code: ErrorCode, message?: string): void {
  assert.throws(fn, (e) => isDaneelError(e, code), message)
}

/** Asserts that `promise` (or the one `fn` returns) rejects with a DaneelError with `code`. */
export async function rejectsCode(promise: Promise<unknown> | (() => Promise<unknown>), code: ErrorCode, message?: string): Promise<void> {
  await assert.rejects(promise, (e) => isDaneelError(e, code), message)
}
