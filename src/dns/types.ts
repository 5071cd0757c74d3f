/** DNSSEC validation outcomes shared by the resolver, DANE discovery, the CLI and the monitor. */

/** RFC 4033 §5: secure, insecure (provably unsigned), bogus, indeterminate (cannot tell, e.g. clock unsynced). */
export type ValidationStatus = 'secure' | 'insecure' | 'bogus' | 'indeterminate'

export interface Validation {
  readonly status: ValidationStatus
  /** Why, in one line: e.g. "RRSIG expired 2026-01-01", "no DS for insecure.test. proven by NSEC3". */
  readonly reason: string
}

/** One resolved and validated answer (src/dns/resolver.ts `query`). */
export interface DnsAnswer extends Validation {
  /** The query name (lower case, final dot) and type number. */
  readonly name: string
  readonly type: number
  readonly rcode: number
  /** The RRset that answers (after following CNAMEs); empty for NXDOMAIN / NODATA. */
  readonly rrset: ReadonlyArray<import('./wire.js').Rr>
  /** The CNAME records followed, in order. */
  readonly cnames: ReadonlyArray<import('./wire.js').Rr>
  readonly negative?: 'nxdomain' | 'nodata'
  /** Seconds left to cache (clamped; bounded by RRSIG validity). */
  readonly ttl: number
  /** Where the answer came from this time: the network, the cache, or the cache past its TTL (RFC 8767). */
  readonly source: 'network' | 'cache' | 'stale'
  readonly server?: string
  readonly tcp?: boolean
}
