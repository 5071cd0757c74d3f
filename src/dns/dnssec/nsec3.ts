/** Authenticated denial with NSEC3 (RFC 5155 §8, RFC 9276): closest-encloser proofs, NXDOMAIN, NODATA, opt-out, wildcards. */
import { createHash } from 'node:crypto'
import { compareBytes, isSubdomain, type Name, nameFromLabels, nameLabels, nameToWire, parentName } from '../name.js'
import { type Nsec3, parseNsec3 } from '../rdata.js'
import { type Rr, TYPE, typeToString } from '../wire.js'
import { type Denial, matchedNodata } from './nsec.js'

/** RFC 9276 §3.2: above this many extra iterations a validator may treat the zone as insecure (BIND and Unbound use 150). */
export const NSEC3_MAX_ITERATIONS = 150

const B32 = '0123456789abcdefghijklmnopqrstuv'

function b32hexDecode(s: string): Uint8Array | undefined {
  let bits = 0
  let value = 0
  const out: number[] = []
  for (const ch of s.toLowerCase()) {
    const v = B32.indexOf(ch)
    if (v < 0) return undefined
    value = (value << 5) | v
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Uint8Array.from(out)
}

/** RFC 5155 §5: IH(salt, x, 0) = H(x | salt); IH(salt, x, k) = H(IH(salt, x, k-1) | salt). */
export function nsec3Hash(name: Name, salt: Uint8Array, iterations: number): Uint8Array {
  let h = createHash('sha1').update(nameToWire(name)).update(salt).digest()
  for (let i = 0; i < iterations; i++) h = createHash('sha1').update(h).update(salt).digest()
  return new Uint8Array(h)
}

interface Entry {
  hash: Uint8Array
  n: Nsec3
}

/** NSEC3 records of `zone` with hash algorithm 1 (SHA-1); others are ignored (RFC 5155 §8.1). */
function entries(rrs: readonly Rr[], zone: Name): Entry[] {
  const out: Entry[] = []
  for (const r of rrs) {
    if (r.type !== TYPE.NSEC3 || parentName(r.name) !== zone) continue
    const n = parseNsec3(r.rdata)
    const label = nameLabels(r.name)[0]
    const hash = label === undefined ? undefined : b32hexDecode(Buffer.from(label).toString('latin1'))
    if (n.hashAlgorithm !== 1 || hash === undefined || hash.length !== n.nextHashed.length) continue
    out.push({ hash, n })
  }
  return out
}

class Hasher {
  private readonly memo = new Map<string, Uint8Array>()
  private readonly es: Entry[]
  constructor(es: Entry[]) {
    this.es = es
  }
  hashFor(e: Entry, name: Name): Uint8Array {
    const key = `${Buffer.from(e.n.salt).toString('hex')}/${e.n.iterations}/${name}`
    let h = this.memo.get(key)
    if (h === undefined) {
      h = nsec3Hash(name, e.n.salt, e.n.iterations)
      this.memo.set(key, h)
    }
    return h
  }
  match(name: Name): Entry | undefined {
    return this.es.find((e) => compareBytes(e.hash, this.hashFor(e, name)) === 0)
  }
  cover(name: Name): Entry | undefined {
    return this.es.find((e) => {
      const h = this.hashFor(e, name)
      const afterOwner = compareBytes(e.hash, h) < 0
      if (compareBytes(e.n.nextHashed, e.hash) <= 0) return afterOwner || compareBytes(h, e.n.nextHashed) < 0
      return afterOwner && compareBytes(h, e.n.nextHashed) < 0
    })
  }
}

/** The closest-encloser proof (RFC 5155 §8.3): an ancestor that exists and the next closer name covered. */
function closestEncloser(h: Hasher, qname: Name, zone: Name): { ce: Name; nextCloser: Name; cover: Entry } | undefined {
  let child = qname
  let cur = parentName(qname)
  for (;;) {
    if (!isSubdomain(cur, zone)) return undefined
    const m = h.match(cur)
    if (m !== undefined) {
      // An NSEC3 at a delegation (NS without SOA) or a DNAME cannot prove anything below it (RFC 6840 §4.1).
      if ((m.n.types.has(TYPE.NS) && !m.n.types.has(TYPE.SOA)) || m.n.types.has(TYPE.DNAME)) return undefined
      const cover = h.cover(child)
      return cover === undefined ? undefined : { ce: cur, nextCloser: child, cover }
    }
    if (cur === zone || cur === '.') return undefined
    child = cur
    cur = parentName(cur)
  }
}

function tooCostly(es: Entry[]): boolean {
  return es.some((e) => e.n.iterations > NSEC3_MAX_ITERATIONS)
}
const costly: Denial = {
  ok: true,
  insecure: true,
  reason: `NSEC3 iterations above ${NSEC3_MAX_ITERATIONS} (RFC 9276): treated as insecure`,
}
const wildcardOf = (ce: Name): Name => (ce === '.' ? '*.' : `*.${ce}`)

export function nsec3Nxdomain(qname: Name, zone: Name, rrs: readonly Rr[]): Denial {
  const es = entries(rrs, zone)
  if (es.length === 0) return { ok: false, reason: 'no usable NSEC3' }
  if (tooCostly(es)) return costly
  const h = new Hasher(es)
  const cep = closestEncloser(h, qname, zone)
  if (cep === undefined) return { ok: false, reason: `no NSEC3 closest-encloser proof for ${qname}` }
  if (h.cover(wildcardOf(cep.ce)) === undefined) return { ok: false, reason: `no NSEC3 proves ${wildcardOf(cep.ce)} absent` }
  return {
    ok: true,
    nxdomain: true,
    reason: `NXDOMAIN proven by NSEC3 (closest encloser ${cep.ce})`,
    optOut: (cep.cover.n.flags & 1) === 1,
  }
}

export function nsec3Nodata(qname: Name, qtype: number, zone: Name, rrs: readonly Rr[]): Denial {
  const es = entries(rrs, zone)
  const t = typeToString(qtype)
  if (es.length === 0) return { ok: false, reason: 'no usable NSEC3' }
  if (tooCostly(es)) return costly
  const h = new Hasher(es)
  const m = h.match(qname)
  if (m !== undefined) return matchedNodata('NSEC3', qname, qtype, m.n.types)
  const cep = closestEncloser(h, qname, zone)
  if (cep === undefined) return { ok: false, reason: `no NSEC3 matches ${qname} and no closest-encloser proof` }
  if (qtype === TYPE.DS) {
    // RFC 5155 §8.6: no matching NSEC3 for a DS query is acceptable only inside an opt-out span (unsigned delegation).
    if ((cep.cover.n.flags & 1) === 1)
      return { ok: true, optOut: true, delegation: true, reason: `${qname} lies in an NSEC3 opt-out span: no DS, insecure` }
    return { ok: false, reason: `NSEC3 proves ${qname} absent, not an unsigned delegation` }
  }
  const wm = h.match(wildcardOf(cep.ce))
  if (wm !== undefined && !wm.n.types.has(qtype) && !wm.n.types.has(TYPE.CNAME)) {
    return { ok: true, reason: `wildcard ${wildcardOf(cep.ce)} has no ${t} (NSEC3)` }
  }
  return { ok: false, reason: `NSEC3 proves neither NODATA nor a wildcard NODATA for ${qname} ${t}` }
}

/** A wildcard answer: the next closer name (one label below the closest encloser `ce`) must be covered (RFC 5155 §8.8). */
export function nsec3WildcardAnswer(qname: Name, ce: Name, zone: Name, rrs: readonly Rr[]): Denial {
  const es = entries(rrs, zone)
  if (es.length === 0) return { ok: false, reason: 'wildcard answer without NSEC3 proof' }
  if (tooCostly(es)) return costly
  const ql = nameLabels(qname)
  const cl = nameLabels(ce)
  if (ql.length <= cl.length) return { ok: false, reason: 'wildcard closest encloser mismatch' }
  const nc = nameFromLabels(ql.slice(ql.length - cl.length - 1))
  const h = new Hasher(es)
  if (h.cover(nc) === undefined) return { ok: false, reason: `no NSEC3 covers the next closer name ${nc}` }
  return { ok: true, reason: `wildcard at ${ce} expanded; ${nc} proven absent by NSEC3` }
}
