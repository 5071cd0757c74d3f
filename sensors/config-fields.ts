/** Readers for config fields: each returns the value (or its default) or throws ERR_CONFIG_INVALID naming the field. */
import { DaneelError } from '../src/errors.js'

/** The one error every config reader throws: `config field <path>: <why>`. */
export const configError = (field: string, why: string): DaneelError =>
  new DaneelError('ERR_CONFIG_INVALID', `config field ${field}: ${why}`)

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A finite number in [min, max]; absent → `dflt`, or "is required" when there is none. */
export function readNumber(v: unknown, field: string, min: number, max: number, dflt?: number): number {
  if (v === undefined) {
    if (dflt === undefined) throw configError(field, 'is required')
    return dflt
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw configError(field, `must be a number, not ${JSON.stringify(v)}`)
  if (v < min || v > max) throw configError(field, `must be between ${min} and ${max}, not ${v}`)
  return v
}

/** As readNumber, and a whole number. */
export function readInteger(v: unknown, field: string, min: number, max: number, dflt?: number): number {
  const n = readNumber(v, field, min, max, dflt)
  if (!Number.isInteger(n)) throw configError(field, `must be a whole number, not ${n}`)
  return n
}

/** A non-empty string (required). */
export function readString(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw configError(field, v === undefined ? 'is required' : 'must be a non-empty string')
  return v
}

/** true or false; absent → `dflt`. */
export function readBoolean(v: unknown, field: string, dflt: boolean): boolean {
  const b = v ?? dflt
  if (typeof b !== 'boolean') throw configError(field, `must be true or false, not ${JSON.stringify(b)}`)
  return b
}

/** One of a few strings; absent → `dflt`. */
export function readOneOf<T extends string>(v: unknown, field: string, options: readonly T[], dflt: T): T {
  const s = v ?? dflt
  const found = options.find((o) => o === s)
  if (found === undefined) throw configError(field, `must be ${options.map((o) => `'${o}'`).join(' or ')}, not ${JSON.stringify(s)}`)
  return found
}
