/** Strict JSON for JOSE headers and JWT claims: an object at the top, no duplicate member names (RFC 7515 §5.2 step 4). */
import { DaneelError, type ErrorCode } from '../errors.js'

export type JsonObject = Record<string, unknown>

/**
 * Parses `text` as a JSON object and rejects duplicate member names at any depth. JSON.parse alone keeps the
 * last duplicate silently, so `{"alg":"ES256","alg":"none"}` would mean different things to different
 * libraries; RFC 7515 §5.2 lets us reject it, and we do. Throws `code` (terse message, detail in `cause`).
 */
export function parseJsonObject(text: string, what: string, code: ErrorCode): JsonObject {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new DaneelError(code, `${what} is not JSON`, { cause: err })
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new DaneelError(code, `${what} is not a JSON object`)
  const dup = findDuplicateMember(text)
  if (dup === TOO_DEEP) throw new DaneelError(code, `${what} is nested too deeply`, { cause: new Error(`more than ${MAX_DEPTH} levels`) })
  if (dup !== undefined)
    throw new DaneelError('ERR_JOSE_HEADER', `${what} has a duplicate member`, { cause: new Error(`duplicate member '${dup}'`) })
  return value as JsonObject
}

/**
 * Nesting we accept in headers and claims: ours have 2 levels (the epk inside a header). A cap keeps every
 * consumer of an opened message (recursive JSON.stringify, a logger) safe from a 16 KiB tower of brackets.
 */
export const MAX_DEPTH = 32
/** Returned by findDuplicateMember when the text nests deeper than MAX_DEPTH. */
export const TOO_DEEP = '\u0000too deep'

/** Returns the first duplicate member name in `text` (which must already be valid JSON), TOO_DEEP, or undefined. */
export function findDuplicateMember(text: string): string | undefined {
  const stack: (Set<string> | null)[] = []
  let expectKey = false
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      // to the closing quote natively (strings are most of a header's characters: keys, base64url values)
      const start = i + 1
      i = text.indexOf('"', start)
      while (i > 0 && escapedAt(text, i)) i = text.indexOf('"', i + 1)
      if (i < 0) i = n
      if (expectKey) {
        const raw = text.slice(start, i)
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw
        const top = stack[stack.length - 1]
        if (top) {
          if (top.has(key)) return key
          top.add(key)
        }
        expectKey = false
      }
    } else if (c === 0x7b /* { */) {
      if (stack.push(new Set()) > MAX_DEPTH) return TOO_DEEP
      expectKey = true
    } else if (c === 0x5b /* [ */) {
      if (stack.push(null) > MAX_DEPTH) return TOO_DEEP
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop()
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null
    }
  }
  return undefined
}

/** True when the quote at `j` is escaped: an odd number of backslashes right before it. */
function escapedAt(text: string, j: number): boolean {
  let k = j - 1
  while (k >= 0 && text.charCodeAt(k) === 0x5c) k--
  return ((j - 1 - k) & 1) === 1
}

/** Reads a required string member. */
export function stringMember(obj: JsonObject, name: string, what: string, code: ErrorCode): string {
  const v = obj[name]
  if (typeof v !== 'string') throw new DaneelError(code, `${what} lacks a string '${name}'`)
  return v
}
