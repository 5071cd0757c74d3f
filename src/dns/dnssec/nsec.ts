/** Authenticated denial with NSEC (RFC 4035 §5.4, RFC 6840 §4.1): NXDOMAIN, NODATA, empty non-terminals, wildcards. */
import { canonicalCompare, isSubdomain, type Name, nameFromLabels, nameLabels, parentName } from '../name.js'
import { type Nsec, parseNsec } from '../rdata.js'
import { type Rr, TYPE, typeToString } from '../wire.js'

export interface Denial {
  ok: boolean
  reason: string
  /** NODATA for DS at a delegation point (NS, no SOA): the child zone is unsigned. */
  delegation?: boolean
  /** The proof says the name does not exist at all. */
  nxdomain?: boolean
  /** NSEC3 opt-out span covers the name: an unsigned delegation may exist there (insecure). */
  optOut?: boolean
  /** NSEC3 with more iterations than we accept (RFC 9276 §3.2: treat as insecure). */
  insecure?: boolean
}

interface Entry {
  owner: Name
  nsec: Nsec
}

const entries = (rrs: readonly Rr[]): Entry[] =>
  rrs.filter((r) => r.type === TYPE.NSEC).map((r) => ({ owner: r.name, nsec: parseNsec(r.rdata) }))

/** owner < name < next in canonical order, the last NSEC wrapping to the apex (RFC 4034 §4.1.1). */
function covers(e: Entry, name: Name): boolean {
  const afterOwner = canonicalCompare(e.owner, name) < 0
  if (canonicalCompare(e.nsec.next, e.owner) <= 0) return afterOwner
  return afterOwner && canonicalCompare(name, e.nsec.next) < 0
}

/** RFC 6840 §4.1: an NSEC at a delegation point (NS without SOA) or at a DNAME proves nothing below its owner. */
function usableFor(e: Entry, name: Name): boolean {
  if (name === e.owner || !isSubdomain(name, e.owner)) return true
  const cut = e.nsec.types.has(TYPE.NS) && !e.nsec.types.has(TYPE.SOA)
  return !cut && !e.nsec.types.has(TYPE.DNAME)
}

function commonAncestor(a: Name, b: Name): Name {
  const la = nameLabels(a).reverse()
  const lb = nameLabels(b).reverse()
  const out: Uint8Array[] = []
  for (let i = 0; i < Math.min(la.length, lb.length); i++) {
    const x = la[i] as Uint8Array
    const y = lb[i] as Uint8Array
    if (x.length !== y.length || x.some((v, j) => v !== y[j])) break
    out.push(x)
  }
  return nameFromLabels(out.reverse())
}

const wildcardOf = (ce: Name): Name => (ce === '.' ? '*.' : `*.${ce}`)

function coveringEntry(es: Entry[], name: Name): Entry | undefined {
  return es.find((e) => e.owner !== name && covers(e, name) && usableFor(e, name))
}

/** The closest encloser implied by an NSEC covering `qname` (the longer common ancestor with owner or next). */
function closestEncloser(e: Entry, qname: Name): Name {
  const a = commonAncestor(qname, e.owner)
  const b = commonAncestor(qname, e.nsec.next)
  return nameLabels(a).length >= nameLabels(b).length ? a : b
}

function bitmapDenies(types: ReadonlySet<number>, qtype: number): boolean {
  return !types.has(qtype) && !types.has(TYPE.CNAME)
}

/**
 * NODATA from the NSEC or NSEC3 record that matches qname itself (RFC 4035 §5.4, RFC 5155 §8.5/§8.6): its bitmap
 * lacks qtype and CNAME; at a delegation (NS without SOA) it denies DS only (the child is unsigned), and the NSEC
 * of a child apex (SOA) never denies DS, which the parent's side must do.
 */
export function matchedNodata(kind: 'NSEC' | 'NSEC3', qname: Name, qtype: number, types: ReadonlySet<number>): Denial {
  const t = typeToString(qtype)
  if (!bitmapDenies(types, qtype)) return { ok: false, reason: `${kind} at ${qname} lists ${t} or CNAME` }
  const cut = types.has(TYPE.NS) && !types.has(TYPE.SOA)
  if (qtype === TYPE.DS) {
    if (types.has(TYPE.SOA) && qname !== '.') return { ok: false, reason: `${kind} from the child apex ${qname} cannot deny DS` }
    return { ok: true, reason: `no DS at ${qname} (${kind})`, delegation: cut }
  }
  if (cut) return { ok: false, reason: `${kind} at delegation ${qname} cannot deny ${t}` }
  return { ok: true, reason: `no ${t} at ${qname} (${kind})` }
}

/** NXDOMAIN: an NSEC covers qname and one covers the wildcard at its closest encloser (RFC 4035 §5.4). */
export function nsecNxdomain(qname: Name, rrs: readonly Rr[]): Denial {
  const es = entries(rrs)
  const cover = coveringEntry(es, qname)
  if (cover === undefined) return { ok: false, reason: `no NSEC covers ${qname}` }
  const wc = wildcardOf(closestEncloser(cover, qname))
  if (es.some((e) => e.owner === wc)) return { ok: false, reason: `wildcard ${wc} exists, so ${qname} is not NXDOMAIN` }
  if (coveringEntry(es, wc) === undefined) return { ok: false, reason: `no NSEC proves ${wc} absent` }
  return { ok: true, reason: `NXDOMAIN proven by NSEC ${cover.owner}`, nxdomain: true }
}

/** NODATA: the NSEC at qname lacks the type; or qname is an empty non-terminal; or a wildcard NODATA (RFC 4035 §3.1.3). */
export function nsecNodata(qname: Name, qtype: number, rrs: readonly Rr[]): Denial {
  const es = entries(rrs)
  const t = typeToString(qtype)
  const match = es.find((e) => e.owner === qname)
  if (match !== undefined) return matchedNodata('NSEC', qname, qtype, match.nsec.types)
  const cover = coveringEntry(es, qname)
  if (cover === undefined) return { ok: false, reason: `no NSEC matches or covers ${qname}` }
  // Empty non-terminal: the next name in the chain lies below qname (RFC 4035 §3.1.3.2 via §5.4).
  if (isSubdomain(cover.nsec.next, qname) && cover.nsec.next !== qname) {
    return { ok: true, reason: `${qname} is an empty non-terminal (NSEC ${cover.owner})` }
  }
  const wc = wildcardOf(closestEncloser(cover, qname))
  const wmatch = es.find((e) => e.owner === wc)
  if (wmatch !== undefined && qtype !== TYPE.DS && bitmapDenies(wmatch.nsec.types, qtype)) {
    return { ok: true, reason: `wildcard ${wc} has no ${t} (NSEC)` }
  }
  return { ok: false, reason: `NSEC proves neither NODATA nor a wildcard NODATA for ${qname} ${t}` }
}

/** A wildcard answer: qname itself must not exist (RFC 4035 §5.3.4). `ce` is the wildcard's closest encloser. */
export function nsecWildcardAnswer(qname: Name, ce: Name, rrs: readonly Rr[]): Denial {
  const es = entries(rrs)
  const cover = coveringEntry(es, qname)
  if (cover === undefined) return { ok: false, reason: `wildcard answer without an NSEC proving ${qname} absent` }
  if (!isSubdomain(qname, ce) || qname === ce) return { ok: false, reason: 'wildcard closest encloser mismatch' }
  return { ok: true, reason: `wildcard *.${ce === '.' ? '' : ce} expanded; ${qname} proven absent by NSEC` }
}

export { parentName }
