/** RRSIG verification of one RRset against a zone's keys (RFC 4035 §5.3), with RFC 1982 time checks on an injectable clock. */
import type { Clock } from '../../clock.js'
import { isSubdomain, labelCount, type Name } from '../name.js'
import { parseDnskey, parseRrsig, type Rrsig } from '../rdata.js'
import { type Rr, typeToString } from '../wire.js'
import { rrsigSignedData } from './canonical.js'
import { dnskeyPublicKey, keyTag, SUPPORTED_ALGORITHMS, verifySignature } from './keys.js'

export type VerifyResult =
  | { ok: true; ttl: number; sig: Rrsig; wildcard: boolean }
  | { ok: false; status: 'bogus' | 'indeterminate'; reason: string }

/** a <= b in 32-bit serial number arithmetic (RFC 1982 §3.2). */
export function serialLte(a: number, b: number): boolean {
  const d = (b - a) >>> 0
  return d === 0 || d < 0x80000000
}

const iso = (s: number): string => new Date(s * 1000).toISOString().slice(0, 19).concat('Z')

/** The DNSKEY RRs able to verify `sig`: same tag and algorithm, zone-key flag, protocol 3 (RFC 4035 §5.3.1). */
function candidateKeys(sig: Rrsig, keys: readonly Rr[]): Rr[] {
  return keys.filter((k) => {
    const d = parseDnskey(k.rdata)
    return d.algorithm === sig.algorithm && d.protocol === 3 && (d.flags & 0x0100) !== 0 && keyTag(k.rdata) === sig.keyTag
  })
}

/**
 * Verifies `rrset` (one owner/type/class) with any of `sigs` made by `zone` with one of `keys`.
 * Secure when one RRSIG checks out; otherwise bogus with the most telling reason (an unsynced clock is indeterminate).
 */
export function verifyRrset(rrset: readonly Rr[], sigs: readonly Rr[], keys: readonly Rr[], zone: Name, clock: Clock): VerifyResult {
  const first = rrset[0]
  if (first === undefined) return { ok: false, status: 'bogus', reason: 'empty RRset' }
  const what = `${first.name} ${typeToString(first.type)}`
  if (sigs.length === 0) return { ok: false, status: 'bogus', reason: `${what}: no RRSIG` }
  if (!clock.synced()) return { ok: false, status: 'indeterminate', reason: 'clock not synchronised: RRSIG validity cannot be checked' }
  const now = Math.floor(clock.now() / 1000) >>> 0
  const ownerLabels = labelCount(first.name, true)
  // A time that is plausible but not confirmed (clock.certain): a signature failing only on its validity period
  // says more about our clock than about the data. It is checked anyway and, if it verifies, the answer is
  // indeterminate (retried later) instead of bogus.
  const doubtful = clock.certain !== undefined && !clock.certain()
  let timeDoubt: string | undefined
  let reason = `${what}: no RRSIG by a key of ${zone}`
  for (const sigRr of sigs) {
    let sig: Rrsig
    try {
      sig = parseRrsig(sigRr.rdata)
    } catch {
      reason = `${what}: malformed RRSIG`
      continue
    }
    if (sig.typeCovered !== first.type || sig.signer !== zone || !isSubdomain(first.name, zone)) continue
    if (sig.labels > ownerLabels) {
      reason = `${what}: RRSIG labels field larger than the owner name`
      continue
    }
    if (!SUPPORTED_ALGORITHMS.has(sig.algorithm)) {
      reason = `${what}: RRSIG algorithm ${sig.algorithm} not supported`
      continue
    }
    const early = !serialLte(sig.inception, now)
    const late = !early && !serialLte(now, sig.expiration)
    if (early || late) {
      reason = early ? `${what}: RRSIG not valid before ${iso(sig.inception)}` : `${what}: RRSIG expired ${iso(sig.expiration)}`
      if (doubtful && timeDoubt === undefined && signatureHolds(sig, rrset, keys)) timeDoubt = reason
      continue
    }
    const cands = candidateKeys(sig, keys)
    if (cands.length === 0) {
      reason = `${what}: no DNSKEY with tag ${sig.keyTag} algorithm ${sig.algorithm} in ${zone}`
      continue
    }
    const data = rrsigSignedData(sig.head, rrset)
    for (const k of cands) {
      const pub = dnskeyPublicKey(k.rdata)
      if (pub !== undefined && verifySignature(sig.algorithm, pub, data, sig.signature)) {
        const received = Math.min(...rrset.map((r) => r.ttl))
        const ttl = Math.max(0, Math.min(received, sig.originalTtl, ((sig.expiration - now) >>> 0) & 0x7fffffff))
        return { ok: true, ttl, sig, wildcard: sig.labels < ownerLabels }
      }
    }
    reason = `${what}: RRSIG by key ${sig.keyTag} does not verify (signature or data altered)`
  }
  if (timeDoubt !== undefined)
    return { ok: false, status: 'indeterminate', reason: `${timeDoubt}, and the clock is not confirmed (not NTP synced)` }
  return { ok: false, status: 'bogus', reason }
}

/** True when `sig` verifies `rrset` with one of `keys`, its validity period aside. */
function signatureHolds(sig: Rrsig, rrset: readonly Rr[], keys: readonly Rr[]): boolean {
  const data = rrsigSignedData(sig.head, rrset)
  return candidateKeys(sig, keys).some((k) => {
    const pub = dnskeyPublicKey(k.rdata)
    return pub !== undefined && verifySignature(sig.algorithm, pub, data, sig.signature)
  })
}
