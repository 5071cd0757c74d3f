/** RFC 4034 §6 canonical form and §3.1.8.1 RRSIG signed data; exported for anyone who signs or verifies (the demo signs with it). */
import { concatBytes } from '../../bytes.js'
import { canonicalCompare, compareBytes, labelCount, type Name, nameToWire, suffixName } from '../name.js'
import type { Rrsig } from '../rdata.js'
import type { Rr } from '../wire.js'

/** The RRSIG fields that go before the signature: what a signer chooses (the decoder's `Rrsig` less what it derives). */
export type RrsigHead = Omit<Rrsig, 'signature' | 'head'>

/** RRSIG RDATA without the signature field, signer name lower-cased (RFC 4034 §3.1.8.1, §6.2). */
export function encodeRrsigHead(f: RrsigHead): Uint8Array {
  const signer = nameToWire(f.signer)
  const out = new Uint8Array(18 + signer.length)
  const dv = new DataView(out.buffer)
  dv.setUint16(0, f.typeCovered)
  out[2] = f.algorithm
  out[3] = f.labels
  dv.setUint32(4, f.originalTtl >>> 0)
  dv.setUint32(8, f.expiration >>> 0)
  dv.setUint32(12, f.inception >>> 0)
  dv.setUint16(16, f.keyTag)
  out.set(signer, 18)
  return out
}

/**
 * The owner name as signed: for a wildcard expansion (RRSIG labels < owner labels) it is "*." plus the
 * rightmost `labels` labels of the owner (RFC 4035 §5.3.2).
 */
export function signedOwner(owner: Name, rrsigLabels: number): Name {
  const n = labelCount(owner, true)
  if (rrsigLabels >= n) return owner
  const base = suffixName(owner, rrsigLabels)
  return base === '.' ? '*.' : `*.${base}`
}

/** One RR in canonical form with the given TTL: owner | type | class | TTL | RDLENGTH | RDATA (RDATA already canonical). */
export function canonicalRr(owner: Name, type: number, klass: number, ttl: number, rdata: Uint8Array): Uint8Array {
  const o = nameToWire(owner)
  const out = new Uint8Array(o.length + 10 + rdata.length)
  const dv = new DataView(out.buffer)
  out.set(o, 0)
  dv.setUint16(o.length, type)
  dv.setUint16(o.length + 2, klass)
  dv.setUint32(o.length + 4, ttl >>> 0)
  dv.setUint16(o.length + 8, rdata.length)
  out.set(rdata, o.length + 10)
  return out
}

/** RRs sorted by canonical RDATA with duplicates removed (RFC 4034 §6.3). */
export function canonicalOrder(rrs: readonly Rr[]): Rr[] {
  const sorted = [...rrs].sort((a, b) => compareBytes(a.rdata, b.rdata))
  return sorted.filter((rr, i) => i === 0 || compareBytes(rr.rdata, (sorted[i - 1] as Rr).rdata) !== 0)
}

/**
 * The bytes an RRSIG signs (RFC 4034 §3.1.8.1): head | RR(1) | RR(2) ..., each RR with the owner as signed,
 * the RRSIG's original TTL, sorted by RDATA. `rrs` must be one RRset (same owner, type, class).
 */
export function rrsigSignedData(head: Uint8Array | RrsigHead, rrs: readonly Rr[]): Uint8Array {
  const h = head instanceof Uint8Array ? head : encodeRrsigHead(head)
  const labels = h[3] as number
  const ttl = ((h[4] as number) * 2 ** 24 + ((h[5] as number) << 16) + ((h[6] as number) << 8) + (h[7] as number)) >>> 0
  const parts = canonicalOrder(rrs).map((rr) => canonicalRr(signedOwner(rr.name, labels), rr.type, rr.class, ttl, rr.rdata))
  return concatBytes(h, ...parts)
}

/** Sorts names in RFC 4034 §6.1 canonical order (NSEC chains follow it). */
export const sortCanonical = (names: Name[]): Name[] => [...names].sort(canonicalCompare)
