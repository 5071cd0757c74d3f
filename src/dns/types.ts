/** DNSSEC validation outcomes shared by the resolver, DANE discovery, the CLI and the monitor. */

/** RFC 4033 §5: secure, insecure (provably unsigned), bogus, indeterminate (cannot tell, e.g. clock unsynced). */
export type ValidationStatus = 'secure' | 'insecure' | 'bogus' | 'indeterminate'

export interface Validation {
  readonly status: ValidationStatus
  /** Why, in one line: e.g. "RRSIG expired 2026-01-01", "no DS for insecure.test. proven by NSEC3". */
  readonly reason: string
}
