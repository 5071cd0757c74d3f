/** Certification path checks (RFC 5280 §6.1, simplified): issuer search, CA/pathLen/keyUsage/date checks, PKIX path to anchors. */

import { bytesEqual } from '../bytes.js'
import { type Certificate, verifyCertificateSignature } from './cert.js'

/** Longest path we build: deeper chains are not used by devices and bound the work an attacker can cause. */
export const MAX_PATH_LENGTH = 8

/** Subject equals issuer (RFC 5280 §6.1: "self-issued"). */
export function isSelfIssued(cert: Certificate): boolean {
  return bytesEqual(cert.subjectDer, cert.issuerDer)
}

/** The first candidate whose subject is `cert`'s issuer and whose key verifies `cert`'s signature. */
export function findIssuer(cert: Certificate, candidates: readonly Certificate[]): Certificate | undefined {
  for (const c of candidates) {
    if (c !== cert && bytesEqual(c.subjectDer, cert.issuerDer) && verifyCertificateSignature(cert, c.spkiDer)) return c
  }
  return undefined
}

/** Why a certificate cannot be used at its place in a path, or undefined when it can. */
export function caProblem(cert: Certificate, intermediatesBelow: number): string | undefined {
  if (cert.basicConstraints?.ca !== true) return `'${cert.subject}' is not a CA (BasicConstraints)`
  if (cert.keyUsage !== undefined && !cert.keyUsage.has('keyCertSign')) return `'${cert.subject}' lacks keyCertSign`
  const pl = cert.basicConstraints.pathLen
  if (pl !== undefined && intermediatesBelow > pl) return `'${cert.subject}' pathLen ${pl} exceeded`
  return undefined
}

/** Why `cert` is not valid at `now`, or undefined. */
export function dateProblem(cert: Certificate, now: number): string | undefined {
  if (now < cert.notBefore) return `'${cert.subject || cert.serialHex}' is not valid yet`
  if (now > cert.notAfter) return `'${cert.subject || cert.serialHex}' has expired`
  return undefined
}

/**
 * Checks path[0..end): dates at `now` (when given) and no unknown critical extensions for each; above the leaf
 * also CA flag, keyCertSign and pathLen (RFC 5280 §6.1.4 (k), (l), (n)).
 */
export function checkPathBelow(path: readonly Certificate[], end: number, now: number | undefined): string | undefined {
  for (let i = 0; i < Math.min(end, path.length); i++) {
    const c = path[i] as Certificate
    if (c.unknownCriticalExtensions.length > 0) return `'${c.subject}' has an unknown critical extension ${c.unknownCriticalExtensions[0]}`
    if (now !== undefined) {
      const d = dateProblem(c, now)
      if (d !== undefined) return d
    }
    if (i > 0) {
      const p = caProblem(c, nonSelfIssuedBetween(path, 1, i))
      if (p !== undefined) return p
    }
  }
  return undefined
}

function nonSelfIssuedBetween(path: readonly Certificate[], from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) if (!isSelfIssued(path[i] as Certificate)) n++
  return n
}

export type PkixPathResult = { ok: true; path: Certificate[] } | { ok: false; reason: string; path: Certificate[] }

/**
 * Builds and checks a path from `leaf` through `pool` (untrusted intermediates) to one of `anchors`. Signatures,
 * CA flags, keyCertSign, pathLen and dates at `now` are checked for every certificate on the path, the anchor too
 * (as OpenSSL does for trust-store roots).
 */
export function buildPkixPath(
  leaf: Certificate,
  pool: readonly Certificate[],
  anchors: readonly Certificate[],
  now: number,
): PkixPathResult {
  const path: Certificate[] = [leaf]
  for (let step = 0; step < MAX_PATH_LENGTH; step++) {
    const cur = path[path.length - 1] as Certificate
    const anchor = anchors.find((a) => bytesEqual(a.der, cur.der)) ?? findIssuer(cur, anchors)
    if (anchor !== undefined) {
      if (anchor !== cur && !bytesEqual(anchor.der, cur.der)) path.push(anchor)
      const problem = checkPathBelow(path, path.length, now)
      return problem === undefined ? { ok: true, path } : { ok: false, reason: problem, path }
    }
    const next = findIssuer(
      cur,
      pool.filter((c) => !path.includes(c)),
    )
    if (next === undefined) return { ok: false, reason: `no issuer found for '${cur.subject || cur.serialHex}'`, path }
    path.push(next)
  }
  return { ok: false, reason: `path longer than ${MAX_PATH_LENGTH}`, path }
}
