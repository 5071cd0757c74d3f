/** Matches a certificate chain against a whole TLSA RRset (RFC 6698 §2.1, RFC 7671 §5, §9), OpenSSL's precedence. */

import { bytesEqual } from '../bytes.js'
import { type Certificate, parseCertificate, verifyCertificateSignature } from '../x509/cert.js'
import { buildPkixPath, checkPathBelow, findIssuer, MAX_PATH_LENGTH } from '../x509/path.js'
import { certificateMatchesName } from './cert-name.js'
import { DIGEST_LENGTH, isTlsaMatchingType, isTlsaSelector, isTlsaUsage, matchingData, selectedBytes } from './tlsa.js'
import type { TlsaMatchingType, TlsaRecord, TlsaUsage } from './types.js'

export interface MatchOptions {
  /** Time for date checks (PKIX usages and chains below a DANE-TA), ms since the epoch. DANE-EE ignores it. */
  now: number
  /** Reference identifier for name checks (the identity name, or a TLS base domain). Without it names are not checked. */
  name?: string
  /** Also check names on a DANE-EE match (OpenSSL's default; RFC 7671 §5.1 says DANE-EE ignores names). Default false. */
  checkEeName?: boolean
  /** The caller has PKIX-validated the presented chain (usages 0/1) when no `pkixAnchors` are given. */
  pkixTrusted?: boolean
  /** PKIX trust anchors: usages 0/1 then need a path built here from the chain (plus `0 0 0` certificates from DNS). */
  pkixAnchors?: readonly Certificate[]
  /**
   * False while the device clock has not synced (a Pi has no RTC): DANE-EE and PKIX-CD data matches still count
   * (they ignore dates), but anything that needs a date check fails closed as 'clock-unsynced', never as valid.
   */
  clockSynced?: boolean
  /** RFC 7671 §9 digest agility, most preferred first (default [2, 1]: SHA2-512 hides SHA2-256); false to disable. */
  digestPreference?: readonly TlsaMatchingType[] | false
}

export type MatchFailure = 'no-usable-records' | 'no-match' | 'name-mismatch' | 'pkix-untrusted' | 'chain-invalid' | 'clock-unsynced'

export type MatchResult =
  | {
      ok: true
      record: TlsaRecord
      usage: TlsaUsage
      /** Chain depth of the match: 0 the end entity; n a trust anchor at depth n (OpenSSL's SSL_get0_dane_authority). */
      depth: number
      /** The certificate the record matched (undefined for a bare `2 1 0` key from DNS). */
      cert: Certificate | undefined
    }
  | { ok: false; failure: MatchFailure; reason: string; depth: number; record?: TlsaRecord }

/** Usable: known parameters and data of the right size (RFC 7671 §4: anything else is ignored, not an error). */
export function isUsableRecord(r: TlsaRecord): boolean {
  if (!isTlsaUsage(r.usage) || !isTlsaSelector(r.selector) || !isTlsaMatchingType(r.matchingType)) return false
  const want = DIGEST_LENGTH[r.matchingType]
  return r.data.length > 0 && (want === undefined || r.data.length === want)
}

/** RFC 7671 §9: per usage and selector, only the most preferred digest present is used; Full (0) always is. */
function applyDigestAgility(records: TlsaRecord[], pref: readonly TlsaMatchingType[] | false): TlsaRecord[] {
  if (pref === false) return records
  const best = new Map<string, TlsaMatchingType>()
  for (const t of [...pref].reverse()) for (const r of records) if (r.matchingType === t) best.set(`${r.usage}/${r.selector}`, t)
  return records.filter(
    (r) => r.matchingType === 0 || best.get(`${r.usage}/${r.selector}`) === r.matchingType || !pref.includes(r.matchingType),
  )
}

function recordMatches(r: TlsaRecord, cert: Certificate): boolean {
  return bytesEqual(matchingData(selectedBytes(cert, r.selector), r.matchingType), r.data)
}

function fail(failure: MatchFailure, reason: string, depth: number, record?: TlsaRecord): MatchResult {
  return record === undefined ? { ok: false, failure, reason, depth } : { ok: false, failure, reason, depth, record }
}

/** Parses `x 0 0` records' data as certificates, skipping any that do not parse. */
function certsFromDns(records: readonly TlsaRecord[]): { rec: TlsaRecord; cert: Certificate }[] {
  const out: { rec: TlsaRecord; cert: Certificate }[] = []
  for (const rec of records) {
    if (rec.selector !== 0 || rec.matchingType !== 0) continue
    try {
      out.push({ rec, cert: parseCertificate(rec.data) })
    } catch {
      // a Full(0) record that is not a certificate cannot anchor anything
    }
  }
  return out
}

/**
 * Matches `chain` (end entity first, then what the peer sent) against the whole RRset. Order, as OpenSSL:
 * DANE-EE(3) on the leaf; DANE-TA(2) from the shallowest depth (a TA certificate or bare key may come from DNS);
 * PKIX-CD(4) on the leaf (data only: the caller must still validate the PKIX-CD chain); PKIX-EE(1), PKIX-TA(0).
 */
export function matchTlsa(rrset: readonly TlsaRecord[], chain: readonly Certificate[], opts: MatchOptions): MatchResult {
  const leaf = chain[0]
  if (leaf === undefined) return fail('no-match', 'no certificate to match', -1)
  const usable = applyDigestAgility(rrset.filter(isUsableRecord), opts.digestPreference ?? [2, 1])
  if (usable.length === 0) return fail('no-usable-records', 'the TLSA RRset has no usable record', -1)
  const nameOk = (c: Certificate): boolean => opts.name === undefined || certificateMatchesName(c, opts.name)

  // DANE-EE(3): no chain, no dates, names only if asked (RFC 7671 §5.1)
  for (const r of usable) {
    if (r.usage !== 3 || !recordMatches(r, leaf)) continue
    if (opts.checkEeName === true && !nameOk(leaf)) return fail('name-mismatch', `certificate names do not include ${opts.name}`, 0, r)
    return { ok: true, record: r, usage: 3, depth: 0, cert: leaf }
  }

  if (opts.clockSynced === false) {
    for (const r of usable) {
      if (r.usage === 4 && recordMatches(r, leaf)) return { ok: true, record: r, usage: 4, depth: 0, cert: leaf }
    }
    if (usable.some((r) => r.usage <= 2))
      return fail('clock-unsynced', 'the clock is not synced: certificate dates cannot be checked yet', -1)
    return fail('no-match', 'no TLSA record matches the certificate chain', -1)
  }

  const ta = matchDaneTa(
    usable.filter((r) => r.usage === 2),
    chain,
    opts,
  )
  if (ta !== undefined && (ta.ok || ta.failure === 'name-mismatch')) return ta

  for (const r of usable) {
    if (r.usage === 4 && recordMatches(r, leaf)) return { ok: true, record: r, usage: 4, depth: 0, cert: leaf }
  }

  const pkix = matchPkix(usable, chain, opts)
  if (pkix !== undefined) return pkix
  return ta ?? fail('no-match', 'no TLSA record matches the certificate chain', -1)
}

/** DANE-TA(2), RFC 7671 §5.2: walk up the presented chain; a TA may be in it or supplied by a `2 0 0`/`2 1 0` record. */
function matchDaneTa(records: TlsaRecord[], chain: readonly Certificate[], opts: MatchOptions): MatchResult | undefined {
  if (records.length === 0) return undefined
  const leaf = chain[0] as Certificate
  const dnsCerts = certsFromDns(records)
  const bareKeys = records.filter((r) => r.selector === 1 && r.matchingType === 0)
  const path: Certificate[] = [leaf]
  let invalid: MatchResult | undefined
  const accept = (rec: TlsaRecord, depth: number, cert: Certificate | undefined, below: number): MatchResult | undefined => {
    const problem = checkPathBelow(path, below, opts.now)
    if (problem !== undefined) {
      invalid ??= fail('chain-invalid', problem, depth, rec)
      return undefined
    }
    if (opts.name !== undefined && !certificateMatchesName(leaf, opts.name))
      return fail('name-mismatch', `certificate names do not include ${opts.name}`, depth, rec)
    return { ok: true, record: rec, usage: 2, depth, cert }
  }
  for (let d = 0; d < MAX_PATH_LENGTH; d++) {
    const cur = path[d] as Certificate
    if (d > 0) {
      const rec = records.find((r) => recordMatches(r, cur))
      if (rec !== undefined) {
        const res = accept(rec, d, cur, d + 1)
        if (res !== undefined) return res
      }
    }
    // a bare key from DNS that signed `cur`: OpenSSL reports the depth of the certificate it signed
    for (const rec of bareKeys) {
      if (verifyCertificateSignature(cur, rec.data)) {
        const res = accept(rec, d, undefined, d + 1)
        if (res !== undefined) return res
      }
    }
    // a full TA certificate from DNS that issued `cur` sits at depth d + 1
    for (const { rec, cert } of dnsCerts) {
      if (findIssuer(cur, [cert]) !== undefined && !path.some((p) => bytesEqual(p.der, cert.der))) {
        path.push(cert)
        const res = accept(rec, d + 1, cert, d + 2)
        if (res !== undefined) return res
        path.pop()
      }
    }
    const next = findIssuer(
      cur,
      chain.slice(1).filter((c) => !path.includes(c)),
    )
    if (next === undefined) break
    path.push(next)
  }
  return invalid
}

/** PKIX-EE(1) and PKIX-TA(0), RFC 6698 §2.1.1: the chain must also pass PKIX validation. */
function matchPkix(usable: TlsaRecord[], chain: readonly Certificate[], opts: MatchOptions): MatchResult | undefined {
  const records = usable.filter((r) => r.usage === 0 || r.usage === 1)
  if (records.length === 0) return undefined
  const leaf = chain[0] as Certificate
  let path: readonly Certificate[] = chain
  let trusted = opts.pkixTrusted === true
  let why = 'the chain is not PKIX-trusted'
  if (opts.pkixAnchors !== undefined) {
    const pool = [...chain.slice(1), ...certsFromDns(records.filter((r) => r.usage === 0)).map((x) => x.cert)]
    const res = buildPkixPath(leaf, pool, opts.pkixAnchors, opts.now)
    trusted = res.ok
    path = res.path
    if (!res.ok) why = res.reason
  }
  const done = (rec: TlsaRecord, depth: number, cert: Certificate): MatchResult => {
    if (!trusted) return fail('pkix-untrusted', why, depth, rec)
    if (opts.name !== undefined && !certificateMatchesName(leaf, opts.name))
      return fail('name-mismatch', `certificate names do not include ${opts.name}`, depth, rec)
    return { ok: true, record: rec, usage: rec.usage, depth, cert }
  }
  const ee = records.find((r) => r.usage === 1 && recordMatches(r, leaf))
  if (ee !== undefined) return done(ee, 0, leaf)
  if (!trusted) return undefined
  for (let d = 1; d < path.length; d++) {
    const cert = path[d] as Certificate
    const rec = records.find((r) => r.usage === 0 && recordMatches(r, cert))
    if (rec !== undefined) return done(rec, d, cert)
  }
  return undefined
}
