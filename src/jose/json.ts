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
  if (dup !== undefined)
    throw new DaneelError('ERR_JOSE_HEADER', `${what} has a duplicate member`, { cause: new Error(`duplicate member '${dup}'`) })
  return value as JsonObject
}

/** Returns the first duplicate member name in `text` (which must already be valid JSON), or undefined. */
export function findDuplicateMember(text: string): string | undefined {
  const stack: (Set<string> | null)[] = []
  let expectKey = false
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      const start = i + 1
      let escaped = false
      i++
      while (i < n) {
        const d = text.charCodeAt(i)
        if (d === 0x5c /* \ */) {
          escaped = true
          i += 2
          continue
        }
        if (d === 0x22) break
        i++
      }
      if (expectKey) {
        const raw = text.slice(start, i)
        const key = escaped ? (JSON.parse(`"${raw}"`) as string) : raw
        const top = stack[stack.length - 1]
        if (top) {
          if (top.has(key)) return key
          top.add(key)
        }
        expectKey = false
      }
    } else if (c === 0x7b /* { */) {
      stack.push(new Set())
      expectKey = true
    } else if (c === 0x5b /* [ */) {
      stack.push(null)
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop()
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null
    }
  }
  return undefined
}

/** Reads a required string member. */
export function stringMember(obj: JsonObject, name: string, what: string, code: ErrorCode): string {
  const v = obj[name]
  if (typeof v !== 'string') throw new DaneelError(code, `${what} lacks a string '${name}'`)
  return v
}
