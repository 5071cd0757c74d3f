/** Monitor verdicts from observations (RFC 7672 §2.2 and §3 for SMTP; RFC 7671 §8 rollover practice): pure, no I/O. */
import type { TlsaRecord } from '../dane/types.js'
import type { ValidationStatus } from '../dns/types.js'
import type { CheckResult, Level } from './state.js'

/** Matches a TLSA RRset against a presented chain (leaf first); src/dane/match.ts behind a small adapter. */
export type ChainMatcher = (
  records: readonly TlsaRecord[],
  chain: readonly Uint8Array[],
  name?: string,
) => { matched: boolean; record?: TlsaRecord; depth?: number }

export interface TlsaObservation {
  status: ValidationStatus
  reason: string
  records: TlsaRecord[]
  ttl?: number
}

export interface EvalOptions {
  now: number
  /** Warn when a certificate expires within this many days. */
  warnDays: number
  match: ChainMatcher
}

const DAY = 86_400_000
export const fmtRecord = (r: TlsaRecord): string =>
  `${r.usage} ${r.selector} ${r.matchingType} ${Buffer.from(r.data).toString('hex').slice(0, 24)}${r.data.length > 12 ? '…' : ''}`

function result(
  kind: CheckResult['kind'],
  target: string,
  level: Level,
  summary: string,
  details: string[],
  data: Record<string, unknown>,
): CheckResult {
  return { id: `${kind}:${target}`, kind, target, level, summary, details, data }
}

/** DNS trouble common to every check; undefined when the answer can be used. */
function dnsVerdict(t: TlsaObservation | Error, secureNeeded: boolean): { level: Level; summary: string } | undefined {
  if (t instanceof Error) return { level: 'failure', summary: `TLSA lookup failed: ${t.message}` }
  if (t.status === 'bogus') return { level: 'failure', summary: `DNSSEC bogus: ${t.reason}` }
  if (t.status === 'indeterminate') return { level: 'failure', summary: `DNSSEC indeterminate: ${t.reason}` }
  if (secureNeeded && t.status === 'insecure')
    return { level: 'warning', summary: `TLSA RRset is not DNSSEC-signed (insecure): DANE is not in effect` }
  if (t.records.length === 0) return { level: secureNeeded ? 'warning' : 'failure', summary: 'no TLSA records published' }
  return undefined
}

/**
 * The verdict after a match: expiring certificates and lingering records warn; two records with one matching is
 * the normal "current + next" rollover and is healthy (RFC 7671 §8.1); more than two means stale records linger.
 */
function afterMatch(
  records: readonly TlsaRecord[],
  matchedCount: number,
  notAfter: number | undefined,
  o: EvalOptions,
): { level: Level; notes: string[] } {
  const notes: string[] = []
  let level: Level = 'ok'
  if (notAfter !== undefined) {
    const days = Math.floor((notAfter - o.now) / DAY)
    if (notAfter - o.now < o.warnDays * DAY) {
      level = 'warning'
      notes.push(notAfter <= o.now ? 'certificate expired' : `certificate expires in ${days} day(s) (< ${o.warnDays})`)
    }
  }
  if (records.length > 2) {
    level = 'warning'
    notes.push(`stale records: ${records.length} TLSA records published, ${matchedCount} match (more than two)`)
  } else if (records.length === 2 && matchedCount === 1) notes.push('rollover in progress: 1 of 2 records matches (current + next)')
  return { level, notes }
}

/** How many records of the RRset match the chain on their own. */
function matchedRecords(records: readonly TlsaRecord[], chain: readonly Uint8Array[], match: ChainMatcher, name?: string): TlsaRecord[] {
  return records.filter((r) => match([r], chain, name).matched)
}

export interface ServiceObservation {
  kind: 'tls' | 'smtp'
  /** `host:port`. */
  target: string
  /** The TLSA base domain (RFC 7671 §7): DANE-TA matches check the certificate names against it. */
  host: string
  tlsaName: string
  tlsa: TlsaObservation | Error
  chain: Uint8Array[] | Error
  /** The leaf's notAfter (ms), when the chain was captured and parsed. */
  leafNotAfter?: number
}

/** A TLS or SMTP service checked as a DANE client would (RFC 7672 §2.2: only secure TLSA RRsets count). */
export function evaluateService(s: ServiceObservation, o: EvalOptions): CheckResult {
  const data: Record<string, unknown> = { tlsaName: s.tlsaName }
  if (!(s.tlsa instanceof Error))
    Object.assign(data, { status: s.tlsa.status, reason: s.tlsa.reason, records: s.tlsa.records.map(fmtRecord) })
  const dns = dnsVerdict(s.tlsa, true)
  if (dns !== undefined) {
    // for the operator: would the (untrusted) records match? ("the key is right, the DNSSEC chain is broken")
    if (!(s.tlsa instanceof Error) && s.tlsa.records.length > 0 && !(s.chain instanceof Error))
      data.match = o.match(s.tlsa.records, s.chain, s.host).matched
    return result(s.kind, s.target, dns.level, dns.summary, [], data)
  }
  const t = s.tlsa as TlsaObservation
  if (s.chain instanceof Error) return result(s.kind, s.target, 'failure', `cannot get the certificate chain: ${s.chain.message}`, [], data)
  // RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP; a DANE client without a trust store treats
  // them the same way for any service. Usage 4 is ours (PKIX-CD identities), never a service's.
  const usable = t.records.filter((r) => r.usage === 2 || r.usage === 3)
  if (usable.length === 0)
    return result(s.kind, s.target, 'failure', `no usable TLSA records (${t.records.length} PKIX or unknown usage)`, [], data)
  const m = o.match(usable, s.chain, s.host)
  data.match = m.matched
  data.chainLength = s.chain.length
  if (!m.matched) {
    return result(
      s.kind,
      s.target,
      'failure',
      `no TLSA record of ${s.tlsaName} matches the presented chain`,
      t.records.map((r) => `published: ${fmtRecord(r)}`),
      data,
    )
  }
  if (m.record !== undefined) data.matchedRecord = fmtRecord(m.record)
  if (s.leafNotAfter !== undefined) data.notAfter = new Date(s.leafNotAfter).toISOString()
  const matched = matchedRecords(t.records, s.chain, o.match, s.host)
  const v = afterMatch(t.records, matched.length, s.leafNotAfter, o)
  return result(
    s.kind,
    s.target,
    v.level,
    v.notes[0] ?? `matched ${m.record === undefined ? '' : fmtRecord(m.record)}`.trim(),
    v.notes,
    data,
  )
}

export interface IdentityObservation {
  name: string
  tlsa: TlsaObservation | Error
  /** The local certificate (DER) and whether the private key belongs to it; absent for remote identities. */
  local?: { certDer: Uint8Array; notAfter: number; keyMatches: boolean }
  /** Outcome of PKIX-CD when the zone is insecure or NO_DNSSEC is set. */
  pkixCd?: true | Error
  noDnssec: boolean
}

/** A device identity: validated (or PKIX-CD), matching the local certificate and key, not expiring, no stale records. */
export function evaluateIdentity(i: IdentityObservation, o: EvalOptions): CheckResult {
  const data: Record<string, unknown> = {}
  if (!(i.tlsa instanceof Error))
    Object.assign(data, { status: i.tlsa.status, reason: i.tlsa.reason, records: i.tlsa.records.map(fmtRecord) })
  if (i.local !== undefined && !i.local.keyMatches)
    return result('identity', i.name, 'failure', 'the local private key does not belong to the local certificate', [], data)
  const dns = i.noDnssec && !(i.tlsa instanceof Error) && i.tlsa.records.length > 0 ? undefined : dnsVerdict(i.tlsa, false)
  if (dns !== undefined) return result('identity', i.name, dns.level, dns.summary, [], data)
  const t = i.tlsa as TlsaObservation
  if (i.noDnssec || t.status === 'insecure') {
    data.auth = 'pkix-cd'
    if (i.pkixCd !== true) return result('identity', i.name, 'failure', `PKIX-CD failed: ${i.pkixCd?.message ?? 'not checked'}`, [], data)
  } else data.auth = 'dnssec'
  if (i.local === undefined) {
    const v = afterMatch(t.records, 1, undefined, o)
    return result(
      'identity',
      i.name,
      v.level,
      v.notes[0] ?? `published and ${data.auth === 'dnssec' ? 'secure' : 'PKIX-CD authenticated'}`,
      v.notes,
      data,
    )
  }
  const matched = matchedRecords(t.records, [i.local.certDer], o.match)
  data.match = matched.length > 0
  if (matched.length === 0) {
    return result(
      'identity',
      i.name,
      'failure',
      'published TLSA records do not match the local certificate',
      t.records.map((r) => `published: ${fmtRecord(r)}`),
      data,
    )
  }
  const v = afterMatch(t.records, matched.length, i.local.notAfter, o)
  return result('identity', i.name, v.level, v.notes[0] ?? 'published, validated and matching the local certificate', v.notes, data)
}
