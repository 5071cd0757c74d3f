/** Shape checks of an IncomingMessage, made before it joins a batch: one malformed message must not fail a whole commit. */
import type { IncomingMessage } from './types.js'

const AUTHS = new Set(['dnssec', 'pkix-cd', 'offline'])
const DIGEST = /^[0-9a-f]{64}$/

/**
 * Returns what is wrong with `m`, or undefined when a store can take it. A commit that failed on one bad row
 * would be retried forever with its whole batch unacknowledged, so the ingest refuses such a message up front.
 */
export function incomingProblem(m: IncomingMessage): string | undefined {
  if (typeof m.node !== 'string' || m.node.length === 0 || m.node.length > 253) return 'node must be a DNS name'
  if (m.seq !== null && !(Number.isSafeInteger(m.seq) && m.seq >= 0)) return 'seq must be a non-negative integer or null'
  if (m.bound !== (m.seq !== null)) return 'a bound message has a seq and an unbound one has none'
  if (typeof m.digest !== 'string' || !DIGEST.test(m.digest)) return 'digest must be 64 lower-case hex digits (SHA-256)'
  if (!Number.isSafeInteger(m.time) || !Number.isSafeInteger(m.receivedAt)) return 'time and receivedAt must be integer ms since the epoch'
  if (!AUTHS.has(m.auth)) return `auth must be dnssec, pkix-cd or offline`
  if (typeof m.profile !== 'string' || m.profile.length === 0) return 'profile must be named'
  if (m.sensor !== null && typeof m.sensor !== 'string') return 'sensor must be a string or null'
  if (m.model !== null && typeof m.model !== 'string') return 'model must be a string or null'
  if (typeof m.values !== 'object' || m.values === null || Array.isArray(m.values)) return 'values must be an object of numbers'
  for (const [k, v] of Object.entries(m.values))
    if (typeof v !== 'number' || !Number.isFinite(v)) return `value ${JSON.stringify(k)} is not a finite number`
  if (m.status !== undefined && (typeof m.status !== 'object' || m.status === null || Array.isArray(m.status)))
    return 'status must be an object'
  return undefined
}
