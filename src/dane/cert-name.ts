/** Reference-identity checks for TLSA usages that check names (RFC 6125 §6.4 as RFC 7671 §5.2 asks): SAN dNSName, else CN. */
import type { Certificate } from '../x509/cert.js'

/** One presented DNS identifier against the reference name; a wildcard may stand for the whole leftmost label only. */
function dnsIdMatches(presented: string, reference: string): boolean {
  const p = presented.toLowerCase().replace(/\.$/, '')
  if (p === reference) return true
  if (!p.startsWith('*.')) return false
  const rest = p.slice(1) // ".example.com"
  const dot = reference.indexOf('.')
  return dot > 0 && reference.slice(dot) === rest && rest.split('.').length > 2
}

/** True when a SAN dNSName (or, without SAN dNSNames, the subject CN) matches `name`. */
export function certificateMatchesName(cert: Certificate, name: string): boolean {
  const ref = name.trim().toLowerCase().replace(/\.$/, '')
  const ids = cert.dnsNames.length > 0 ? cert.dnsNames : cert.subjectCN === undefined ? [] : [cert.subjectCN]
  return ids.some((id) => dnsIdMatches(id, ref))
}
