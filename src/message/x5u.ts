/** The `x5u` of MISSION: `dns://<name>?type=TLSA` naming a TLSA RRset; sender and recipient names, and trusted domains. */
import { DaneelError } from '../errors.js'

// Also accepted on input (MISSION): `dns:<name>?type=TLSA` and `dns://<authority>/<name>?type=TLSA` (RFC 4501
// form; the authority is ignored: we ask our own resolver). Names are compared lower-case without a final dot.
const X5U = /^dns:(?:\/\/(?:[^/?#]*\/)?)?([^/?#]+)\?type=TLSA$/i
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/

/** Lower-cases a DNS name, drops a final dot, and checks its syntax (labels of 1-63 LDH or `_`, 253 in all). */
export function normalizeName(name: string): string {
  const n = name.toLowerCase().replace(/\.$/, '')
  if (n.length === 0 || n.length > 253 || !n.split('.').every((l) => LABEL.test(l))) throw new DaneelError('ERR_NAME_INVALID', 'not a valid identity name')
  return n
}

/** The canonical `x5u` for an identity name. */
export function formatX5u(name: string): string {
  return `dns://${normalizeName(name)}?type=TLSA`
}

/** The identity name an `x5u` names; throws ERR_X5U_INVALID. */
export function parseX5u(x5u: string): string {
  const m = X5U.exec(x5u)
  if (m === null || x5u.length > 300) throw new DaneelError('ERR_X5U_INVALID', 'x5u is not a dns: URI naming a TLSA RRset')
  try {
    return normalizeName(m[1] as string)
  } catch (err) {
    throw new DaneelError('ERR_X5U_INVALID', 'x5u is not a dns: URI naming a TLSA RRset', { cause: err })
  }
}

/** True when `name` is one of `domains` or under one (TRUSTED_DOMAINS). An empty list trusts nobody. */
export function isTrustedSender(name: string, domains: readonly string[]): boolean {
  for (const d of domains) if (name === d || name.endsWith(`.${d}`)) return true
  return false
}
