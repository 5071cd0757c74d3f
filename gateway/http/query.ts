/** Parses and bounds the query of /api/readings and /api/readings.csv into a ReadingQuery, or says why not. */
import type { ReadingQuery } from '../store/types.js'

/** Largest page a client may ask for, and the default: bounds memory per request. */
export const MAX_LIMIT = 10_000
export const DEFAULT_LIMIT = 1_000
/** Steps from 1 s to 1 day. */
export const MAX_STEP_SECONDS = 86_400

const KNOWN = new Set(['node', 'from', 'to', 'limit', 'step'])
// RFC 3339 date-time (what toISOString writes), with an optional fraction and a Z or numeric offset.
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/
// A DNS name as the sender's identity (letters, digits, hyphen, underscore, dots), at most 253 characters.
const NODE = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_.])?$/

export type ParsedQuery = { ok: true; query: ReadingQuery } | { ok: false; error: string }

export function parseReadingsQuery(params: URLSearchParams): ParsedQuery {
  for (const k of params.keys()) {
    if (!KNOWN.has(k)) return { ok: false, error: `unknown parameter "${k.slice(0, 32)}"` }
    if (params.getAll(k).length > 1) return { ok: false, error: `parameter "${k}" given more than once` }
  }
  const q: ReadingQuery = {}
  const node = params.get('node')
  if (node !== null) {
    if (!NODE.test(node)) return { ok: false, error: 'node: not a DNS name' }
    q.node = node.toLowerCase().replace(/\.$/, '')
  }
  for (const k of ['from', 'to'] as const) {
    const s = params.get(k)
    if (s === null) continue
    const t = ISO.test(s) ? Date.parse(s) : Number.NaN
    if (!Number.isFinite(t)) return { ok: false, error: `${k}: not an ISO 8601 date-time (e.g. 2026-01-01T00:00:00Z)` }
    q[k] = t
  }
  if (q.from !== undefined && q.to !== undefined && q.from >= q.to) return { ok: false, error: 'from must be before to' }
  const limit = intParam(params.get('limit'), 1, MAX_LIMIT)
  if (limit === 'bad') return { ok: false, error: `limit: an integer from 1 to ${MAX_LIMIT}` }
  q.limit = limit ?? DEFAULT_LIMIT
  const step = intParam(params.get('step'), 1, MAX_STEP_SECONDS)
  if (step === 'bad') return { ok: false, error: `step: whole seconds from 1 to ${MAX_STEP_SECONDS}` }
  if (step !== undefined) q.stepSeconds = step
  return { ok: true, query: q }
}

function intParam(s: string | null, min: number, max: number): number | undefined | 'bad' {
  if (s === null) return undefined
  if (!/^\d{1,9}$/.test(s)) return 'bad'
  const n = Number(s)
  return n >= min && n <= max ? n : 'bad'
}
