/** The chain of trust (RFC 4035 §5): anchor → DNSKEY → DS → DNSKEY ... to a zone's keys, or a proof that a delegation is unsigned. */
import { bytesEqual } from '../../bytes.js'
import type { Clock } from '../../clock.js'
import { isDaneelError } from '../../errors.js'
import { Lru } from '../../lru.js'
import { isSubdomain, type Name, nameFromLabels, nameLabels } from '../name.js'
import { parseDnskey, parseDs, parseRrsig } from '../rdata.js'
import { findRrset, groupRrsets, type RrsetGroup } from '../rrsets.js'
import { type Message, RCODE, type Rr, TYPE } from '../wire.js'
import type { TrustAnchor } from './anchors.js'
import { dsDigest, keyTag, SUPPORTED_ALGORITHMS, SUPPORTED_DIGESTS } from './keys.js'
import { type Denial, nsecNodata, nsecNxdomain } from './nsec.js'
import { nsec3Nodata, nsec3Nxdomain } from './nsec3.js'
import { verifyRrset } from './verify.js'

export type Fetch = (name: Name, type: number) => Promise<Message>

export type ZoneKeys =
  | { status: 'secure'; zone: Name; keys: Rr[]; ttl: number }
  | { status: 'insecure' | 'bogus' | 'indeterminate'; zone: Name; reason: string; ttl?: number }

type DsResult =
  | { kind: 'ds'; ds: Rr[]; ttl: number }
  | { kind: 'unsigned-delegation'; reason: string }
  | { kind: 'not-a-cut'; nxdomain: boolean }
  | { kind: 'fail'; status: 'insecure' | 'bogus' | 'indeterminate'; reason: string }

/** Verifies every RRset of a negative answer's authority section with the zone's keys, then checks the denial proof. */
export function proveDenial(
  name: Name,
  qtype: number,
  msg: Message,
  zk: Extract<ZoneKeys, { status: 'secure' }>,
  clock: Clock,
): Denial & { status?: 'bogus' | 'indeterminate' } {
  const groups = groupRrsets(msg.authorities).filter((g) => g.type === TYPE.NSEC || g.type === TYPE.NSEC3 || g.type === TYPE.SOA)
  for (const g of groups) {
    const v = verifyRrset(g.rrs, g.sigs, zk.keys, zk.zone, clock)
    if (!v.ok) return { ok: false, status: v.status, reason: v.reason }
  }
  const rrs = groups.flatMap((g) => g.rrs)
  const nxdomain = msg.rcode === RCODE.NXDOMAIN
  if (rrs.some((r) => r.type === TYPE.NSEC)) return nxdomain ? nsecNxdomain(name, rrs) : nsecNodata(name, qtype, rrs)
  if (rrs.some((r) => r.type === TYPE.NSEC3)) return nxdomain ? nsec3Nxdomain(name, zk.zone, rrs) : nsec3Nodata(name, qtype, zk.zone, rrs)
  return { ok: false, reason: `no NSEC or NSEC3 in the negative answer for ${name}` }
}

export interface Chain {
  /** The keys of `zone` when it signs something (found upwards through DS signers to an anchor). */
  keysForSigner(zone: Name): Promise<ZoneKeys>
  /** Walks down from the closest anchor to `name`: the keys of its zone, or where the chain provably ends (insecure). */
  zoneFor(name: Name): Promise<ZoneKeys>
}

export function createChain(opts: { fetch: Fetch; anchors: TrustAnchor[]; clock: Clock; maxEntries?: number }): Chain {
  const { anchors, clock } = opts
  const max = opts.maxEntries ?? 1024
  const memo = new Lru<string, { p: Promise<unknown>; until: number }>(max)

  /** Memoises a chain step by key until its TTL (indeterminate results are not kept; bogus for 5 s). */
  const once = <T>(key: string, ttlOf: (v: T) => number, make: () => Promise<T>): Promise<T> => {
    const hit = memo.peek(key)
    if (hit !== undefined && hit.until > clock.now()) return hit.p as Promise<T>
    const p = make()
    memo.set(key, { p, until: Number.POSITIVE_INFINITY })
    p.then(
      (v) => {
        const e = memo.peek(key)
        if (e?.p === p) e.until = clock.now() + ttlOf(v) * 1000
      },
      () => memo.delete(key),
    )
    return p
  }
  const keysTtl = (z: ZoneKeys): number =>
    z.status === 'secure'
      ? Math.min(z.ttl, 3600)
      : z.status === 'indeterminate'
        ? 0
        : z.status === 'bogus'
          ? 5
          : Math.min(z.ttl ?? 60, 3600)

  const fetch = async (name: Name, type: number): Promise<Message | string> => {
    try {
      const m = await opts.fetch(name, type)
      if (m.rcode !== RCODE.NOERROR && m.rcode !== RCODE.NXDOMAIN)
        return `rcode ${m.rcode} for ${name} ${type === TYPE.DS ? 'DS' : 'DNSKEY'}`
      return m
    } catch (err) {
      return isDaneelError(err) ? err.message : String(err)
    }
  }

  const anchorFor = (name: Name): TrustAnchor | undefined =>
    anchors.filter((a) => isSubdomain(name, a.zone)).sort((a, b) => nameLabels(b.zone).length - nameLabels(a.zone).length)[0]

  /** Accepts a zone's DNSKEY RRset when a trusted key (matching `ds` or an anchor DNSKEY) signs it (RFC 4035 §5.2). */
  const keysFrom = async (zone: Name, ds: Rr[], anchorKeys: Rr[]): Promise<ZoneKeys> => {
    const supported = ds.filter((d) => {
      const p = parseDs(d.rdata)
      return SUPPORTED_ALGORITHMS.has(p.algorithm) && SUPPORTED_DIGESTS.has(p.digestType)
    })
    // RFC 4509 §3: with a SHA-256 (or SHA-384) DS present, SHA-1 DS records are ignored (no digest downgrade).
    const strong = supported.some((d) => parseDs(d.rdata).digestType !== 1)
    const usable = strong ? supported.filter((d) => parseDs(d.rdata).digestType !== 1) : supported
    // RFC 4035 §5.2 / RFC 6840 §5.2: a DS set with only unsupported algorithms or digests makes the zone insecure.
    if (usable.length === 0 && anchorKeys.length === 0)
      return { status: 'insecure', zone, reason: `no DS of ${zone} uses a supported algorithm`, ttl: 60 }
    const m = await fetch(zone, TYPE.DNSKEY)
    if (typeof m === 'string') return { status: 'indeterminate', zone, reason: `DNSKEY ${zone}: ${m}` }
    const g = findRrset(m.answers, zone, TYPE.DNSKEY)
    if (g === undefined) return { status: 'bogus', zone, reason: `no DNSKEY RRset for ${zone}` }
    const trusted = g.rrs.filter((k) => {
      // RFC 5011 §2.1: a key with the REVOKE bit is never a trust anchor or a secure entry point.
      if ((parseDnskey(k.rdata).flags & 0x0080) !== 0) return false
      if (anchorKeys.some((a) => bytesEqual(a.rdata, k.rdata))) return true
      const tag = keyTag(k.rdata)
      const alg = parseDnskey(k.rdata).algorithm
      return usable.some((d) => {
        const p = parseDs(d.rdata)
        const digest = p.keyTag === tag && p.algorithm === alg ? dsDigest(zone, k.rdata, p.digestType) : undefined
        return digest !== undefined && bytesEqual(digest, p.digest)
      })
    })
    if (trusted.length === 0)
      return { status: 'bogus', zone, reason: `no DNSKEY of ${zone} matches its DS${anchorKeys.length > 0 ? '/trust anchor' : ''}` }
    const v = verifyRrset(g.rrs, g.sigs, trusted, zone, clock)
    if (!v.ok) return { status: v.status, zone, reason: `DNSKEY ${zone} not signed by a key matching its DS: ${v.reason}` }
    return { status: 'secure', zone, keys: g.rrs, ttl: v.ttl }
  }

  const dsFor = (child: Name, parent?: ZoneKeys): Promise<DsResult> =>
    once(
      `ds/${child}/${parent?.zone ?? ''}`,
      (r: DsResult) => (r.kind === 'fail' ? (r.status === 'indeterminate' ? 0 : 5) : r.kind === 'ds' ? Math.min(r.ttl, 3600) : 30),
      async () => {
        const m = await fetch(child, TYPE.DS)
        if (typeof m === 'string') return { kind: 'fail', status: 'indeterminate', reason: `DS ${child}: ${m}` }
        const g = findRrset(m.answers, child, TYPE.DS)
        const signerOf = (grp: RrsetGroup | undefined): Name | undefined => {
          for (const s of grp?.sigs ?? []) {
            try {
              const signer = parseRrsig(s.rdata).signer
              if (signer !== child && isSubdomain(child, signer)) return signer
            } catch {
              // a malformed RRSIG is simply not a signer
            }
          }
          return undefined
        }
        const soa = groupRrsets(m.authorities).find((x) => x.type === TYPE.SOA)
        const claimed = g !== undefined ? signerOf(g) : soa !== undefined ? signerOf(soa) : undefined
        const pk =
          parent ?? (claimed !== undefined ? await keysForSigner(claimed) : await zoneFor(nameFromLabels(nameLabels(child).slice(1))))
        if (pk.status === 'insecure') return { kind: 'fail', status: 'insecure', reason: pk.reason }
        if (pk.status !== 'secure') return { kind: 'fail', status: pk.status, reason: pk.reason }
        if (g !== undefined) {
          const v = verifyRrset(g.rrs, g.sigs, pk.keys, pk.zone, clock)
          if (!v.ok) return { kind: 'fail', status: v.status, reason: `DS ${child}: ${v.reason}` }
          return { kind: 'ds', ds: g.rrs, ttl: v.ttl }
        }
        const d = proveDenial(child, TYPE.DS, m, pk, clock)
        if (!d.ok) return { kind: 'fail', status: d.status ?? 'bogus', reason: `DS ${child}: ${d.reason}` }
        if (d.insecure === true || d.delegation === true || d.optOut === true) return { kind: 'unsigned-delegation', reason: d.reason }
        return { kind: 'not-a-cut', nxdomain: d.nxdomain === true }
      },
    )

  const keysForSigner = (zone: Name): Promise<ZoneKeys> =>
    once(`keys/${zone}`, keysTtl, async (): Promise<ZoneKeys> => {
      const anchor = anchorFor(zone)
      if (anchor === undefined) return { status: 'indeterminate', zone, reason: `no trust anchor covers ${zone}` }
      if (anchor.zone === zone) return keysFrom(zone, anchor.ds, anchor.dnskeys)
      const r = await dsFor(zone)
      switch (r.kind) {
        case 'ds':
          return keysFrom(zone, r.ds, [])
        case 'unsigned-delegation':
          return { status: 'insecure', zone, reason: r.reason, ttl: 30 }
        case 'not-a-cut':
          return { status: 'bogus', zone, reason: `${zone} signs data but its parent proves it is no zone cut` }
        default:
          return { status: r.status, zone, reason: r.reason }
      }
    })

  const zoneFor = async (name: Name): Promise<ZoneKeys> => {
    const anchor = anchorFor(name)
    if (anchor === undefined) return { status: 'indeterminate', zone: name, reason: `no trust anchor covers ${name}` }
    let zk = await keysForSigner(anchor.zone)
    const labels = nameLabels(name)
    const depth = nameLabels(anchor.zone).length
    for (let n = depth + 1; n <= labels.length && zk.status === 'secure'; n++) {
      const child = nameFromLabels(labels.slice(labels.length - n))
      const r = await dsFor(child, zk)
      if (r.kind === 'ds') zk = await once(`keys/${child}`, keysTtl, () => keysFrom(child, r.ds, []))
      else if (r.kind === 'unsigned-delegation')
        return { status: 'insecure', zone: child, reason: `${r.reason} (unsigned delegation)`, ttl: 30 }
      else if (r.kind === 'fail') return { status: r.status, zone: child, reason: r.reason }
      else if (r.nxdomain) break
    }
    return zk
  }

  return { keysForSigner, zoneFor }
}
