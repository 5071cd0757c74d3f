/** The demo zone: SOA, NS, DNSKEY and TLSA records, an NSEC chain, every RRset signed with a fresh ECDSA P-256 key (RFC 4034, 6605). */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { concatBytes } from '../../src/bytes.js'
import { encodeRrsigHead, rrsigSignedData } from '../../src/dns/dnssec/canonical.js'
import { keyTag } from '../../src/dns/dnssec/keys.js'
import { canonicalCompare, isSubdomain, labelCount, type Name, nameToWire, parentName, toName } from '../../src/dns/name.js'
import { type Rr, TYPE } from '../../src/dns/wire.js'

/*
 * One combined signing key (flags 257, SEP) signs everything: the demo has no parent to hand a DS to, so the
 * trust anchor is this key's DS record, handed to the resolver exactly as a DNSSEC_TRUST_ANCHORS file would be.
 * Signatures are valid from an hour ago (clock skew) for a week. Denial of existence is plain NSEC (RFC 4034 §4):
 * the demo zone has nothing to hide from zone walking.
 */

const CLASS_IN = 1
const TTL = 300
const ALG_ECDSAP256SHA256 = 13

export interface ZoneRecord {
  readonly name: string
  readonly type: number
  readonly rdata: Uint8Array
}

export interface SignedZone {
  readonly apex: Name
  /** Every RRset by owner and type (RRSIGs and NSECs included), ready to serve. */
  readonly rrsets: ReadonlyMap<Name, ReadonlyMap<number, Rr[]>>
  /** Owners in canonical order (the NSEC chain), empty non-terminals excluded. */
  readonly owners: readonly Name[]
  /** The trust anchor in zone-file syntax: one DS line (RFC 4034 §5.3). */
  readonly trustAnchor: string
  readonly keyTag: number
}

const u16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff]
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]

export const soaRdata = (apex: Name, serial: number): Uint8Array =>
  concatBytes(nameToWire(`ns.${apex}`), nameToWire(`hostmaster.${apex}`), u32(serial), u32(3600), u32(600), u32(86400), u32(TTL))
export const nsRdata = (target: Name): Uint8Array => nameToWire(target)
export const tlsaRdata = (usage: number, selector: number, matching: number, data: Uint8Array): Uint8Array =>
  concatBytes([usage, selector, matching], data)
export const aRdata = (ip: string): Uint8Array => Uint8Array.from(ip.split('.').map(Number))

/** RFC 4034 §4.1.2 type bit maps: one window per high byte of the type, each trimmed to its last set byte. */
export function typeBitmap(types: Iterable<number>): Uint8Array {
  const windows = new Map<number, number[]>()
  for (const t of types) {
    const w = t >>> 8
    const bits = windows.get(w) ?? []
    const byte = (t & 0xff) >>> 3
    while (bits.length <= byte) bits.push(0)
    bits[byte] = (bits[byte] as number) | (0x80 >>> (t & 7))
    windows.set(w, bits)
  }
  const parts: number[] = []
  for (const w of [...windows.keys()].sort((a, b) => a - b)) {
    const bits = windows.get(w) as number[]
    parts.push(w, bits.length, ...bits)
  }
  return Uint8Array.from(parts)
}

function dnskeyRdata(pub: KeyObject): Uint8Array {
  const jwk = pub.export({ format: 'jwk' })
  const x = Buffer.from(jwk.x as string, 'base64url')
  const y = Buffer.from(jwk.y as string, 'base64url')
  return concatBytes(u16(257), [3, ALG_ECDSAP256SHA256], x, y)
}

/** Builds and signs the zone. `records` are owner/type/rdata triples; owners must be at or under the apex. */
export function signZone(apexInput: string, records: readonly ZoneRecord[], opts: { now?: number; key?: KeyObject } = {}): SignedZone {
  const apex = toName(apexInput)
  const nowS = Math.floor((opts.now ?? Date.now()) / 1000)
  const privateKey = opts.key ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  const dnskey = dnskeyRdata(createPublicKey(privateKey))
  const tag = keyTag(dnskey)

  const sets = new Map<Name, Map<number, Rr[]>>()
  const add = (name: Name, type: number, rdata: Uint8Array): void => {
    if (!isSubdomain(name, apex)) throw new Error(`${name} is outside the zone ${apex}`)
    const byType = sets.get(name) ?? new Map<number, Rr[]>()
    sets.set(name, byType)
    const list = byType.get(type) ?? []
    byType.set(type, list)
    list.push({ name, type, class: CLASS_IN, ttl: TTL, rdata })
  }
  add(apex, TYPE.SOA, soaRdata(apex, nowS))
  add(apex, TYPE.NS, nsRdata(`ns.${apex}`))
  add(apex, TYPE.DNSKEY, dnskey)
  add(`ns.${apex}`, 1, aRdata('127.0.0.1'))
  for (const r of records) add(toName(r.name), r.type, r.rdata)

  // NSEC chain in canonical order, each listing its owner's types plus RRSIG and NSEC (RFC 4034 §4.1.2).
  const owners = [...sets.keys()].sort(canonicalCompare)
  owners.forEach((owner, i) => {
    const next = owners[(i + 1) % owners.length] as Name
    const types = [...(sets.get(owner) as Map<number, Rr[]>).keys(), TYPE.RRSIG, TYPE.NSEC]
    add(owner, TYPE.NSEC, concatBytes(nameToWire(next), typeBitmap(types)))
  })

  // Sign every RRset (RFC 4034 §3.1.8.1 signed data from the DNS engineer's canonicaliser).
  for (const [owner, byType] of sets) {
    for (const [type, rrs] of [...byType]) {
      const head = encodeRrsigHead({
        typeCovered: type,
        algorithm: ALG_ECDSAP256SHA256,
        labels: labelCount(owner, true),
        originalTtl: TTL,
        expiration: nowS + 7 * 86400,
        inception: nowS - 3600,
        keyTag: tag,
        signer: apex,
      })
      // ECDSA signatures in DNSSEC are r|s, 32 bytes each (RFC 6605 §4), i.e. IEEE P1363, not DER.
      const sig = sign('sha256', rrsigSignedData(head, rrs), { key: privateKey, dsaEncoding: 'ieee-p1363' })
      const rrsig: Rr = { name: owner, type: TYPE.RRSIG, class: CLASS_IN, ttl: TTL, rdata: concatBytes(head, sig) }
      const list = byType.get(TYPE.RRSIG) ?? []
      byType.set(TYPE.RRSIG, list)
      list.push(rrsig)
    }
  }
  const digest = createHash('sha256').update(nameToWire(apex)).update(dnskey).digest('hex').toUpperCase()
  return { apex, rrsets: sets, owners, trustAnchor: `${apex} ${TTL} IN DS ${tag} ${ALG_ECDSAP256SHA256} 2 ${digest}\n`, keyTag: tag }
}

/** RRSIGs covering one type at one owner. */
export function sigsFor(zone: SignedZone, owner: Name, type: number): Rr[] {
  const sigs = zone.rrsets.get(owner)?.get(TYPE.RRSIG) ?? []
  return sigs.filter((s) => (((s.rdata[0] as number) << 8) | (s.rdata[1] as number)) === type)
}

/** True when some owner lies strictly under `name` (an empty non-terminal if `name` itself owns nothing). */
export function hasDescendant(zone: SignedZone, name: Name): boolean {
  return zone.owners.some((o) => o !== name && isSubdomain(o, name))
}

/** The NSEC owner whose span covers `name` (the last owner canonically before it). */
export function coveringOwner(zone: SignedZone, name: Name): Name {
  let best = zone.owners[0] as Name
  for (const o of zone.owners) if (canonicalCompare(o, name) < 0) best = o
  return best
}

/** The closest existing ancestor (or ENT ancestor) of a name, for the wildcard proof of an NXDOMAIN. */
export function closestEncloser(zone: SignedZone, name: Name): Name {
  let n = parentName(name)
  while (n !== zone.apex && !zone.rrsets.has(n) && !hasDescendant(zone, n)) n = parentName(n)
  return n
}
