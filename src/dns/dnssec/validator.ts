/** Validates one response (RFC 4035 §5): answer RRsets and CNAME chains, wildcard proofs, NXDOMAIN/NODATA; worst status wins. */
import type { Clock } from '../../clock.js'
import { isSubdomain, type Name, suffixName } from '../name.js'
import { parseRrsig, parseTarget, soaMinimum } from '../rdata.js'
import { findRrset, groupRrsets, type RrsetGroup } from '../rrsets.js'
import type { ValidationStatus } from '../types.js'
import { type Message, RCODE, type Rr, TYPE, typeToString } from '../wire.js'
import { type Chain, proveDenial } from './chain.js'
import { nsecWildcardAnswer } from './nsec.js'
import { nsec3WildcardAnswer } from './nsec3.js'
import { verifyRrset } from './verify.js'

const RANK: Record<ValidationStatus, number> = { secure: 0, insecure: 1, indeterminate: 2, bogus: 3 }

export interface Verdict {
  status: ValidationStatus
  reason: string
}

/** The worse of two verdicts: bogus > indeterminate > insecure > secure (fail closed). */
export const worse = (a: Verdict, b: Verdict): Verdict => (RANK[b.status] > RANK[a.status] ? b : a)

export interface Validated extends Verdict {
  /** The RRset finally answering (after CNAMEs); empty for a negative answer or an unfinished chain. */
  rrset: Rr[]
  /** The CNAME RRs followed, in order. */
  cnames: Rr[]
  /** 'nxdomain' | 'nodata' for a negative answer. */
  negative?: 'nxdomain' | 'nodata'
  /** The chain leaves the response here: query (name, qtype) again. */
  follow?: Name
  /** Seconds the result may be cached (RRSIG validity and original TTL included). */
  ttl: number
  /** The zone whose keys signed the final data (for the reason line and the CLI). */
  zone?: Name
}

const MAX_CNAMES = 8

export function createValidator(opts: { chain: Chain; clock: Clock }): {
  validate(qname: Name, qtype: number, msg: Message): Promise<Validated>
} {
  const { chain, clock } = opts

  /** One RRset: signed by a secure zone, or provably in an insecure zone; wildcard expansions need their proof. */
  const rrsetVerdict = async (g: RrsetGroup, msg: Message): Promise<Verdict & { ttl: number; zone?: Name }> => {
    const ttl0 = Math.min(...g.rrs.map((r) => r.ttl))
    const what = `${g.name} ${typeToString(g.type)}`
    if (g.sigs.length === 0) {
      const zk = await chain.zoneFor(g.name)
      if (zk.status === 'insecure') return { status: 'insecure', reason: `${what} unsigned: ${zk.reason}`, ttl: ttl0, zone: zk.zone }
      if (zk.status === 'secure') return { status: 'bogus', reason: `${what} has no RRSIG but ${zk.zone} is signed`, ttl: 0 }
      return { status: zk.status, reason: zk.reason, ttl: 0 }
    }
    let signer: Name | undefined
    for (const s of g.sigs) {
      try {
        const sg = parseRrsig(s.rdata).signer
        if (isSubdomain(g.name, sg) && (signer === undefined || sg.length > signer.length)) signer = sg
      } catch {
        // malformed RRSIGs are left to verifyRrset, which reports them
      }
    }
    if (signer === undefined) return { status: 'bogus', reason: `${what}: no RRSIG signer encloses the owner`, ttl: 0 }
    const zk = await chain.keysForSigner(signer)
    if (zk.status === 'insecure') return { status: 'insecure', reason: `${what}: ${zk.reason}`, ttl: ttl0, zone: zk.zone }
    if (zk.status !== 'secure') return { status: zk.status, reason: zk.reason, ttl: 0 }
    const v = verifyRrset(g.rrs, g.sigs, zk.keys, zk.zone, clock)
    if (!v.ok) return { status: v.status, reason: v.reason, ttl: 0 }
    if (v.wildcard) {
      // RFC 4035 §5.3.4: a wildcard expansion is only secure with proof that the query name itself does not exist.
      const ce = suffixName(g.name, v.sig.labels)
      const proof = groupRrsets(msg.authorities).filter((x) => x.type === TYPE.NSEC || x.type === TYPE.NSEC3)
      for (const p of proof) {
        const pv = verifyRrset(p.rrs, p.sigs, zk.keys, zk.zone, clock)
        if (!pv.ok) return { status: pv.status, reason: `wildcard proof: ${pv.reason}`, ttl: 0 }
      }
      const rrs = proof.flatMap((p) => p.rrs)
      const d = rrs.some((r) => r.type === TYPE.NSEC) ? nsecWildcardAnswer(g.name, ce, rrs) : nsec3WildcardAnswer(g.name, ce, zk.zone, rrs)
      if (!d.ok) return { status: 'bogus', reason: d.reason, ttl: 0 }
      if (d.insecure === true) return { status: 'insecure', reason: d.reason, ttl: v.ttl, zone: zk.zone }
      return { status: 'secure', reason: `${what} secure (${d.reason})`, ttl: v.ttl, zone: zk.zone }
    }
    return {
      status: 'secure',
      reason: `${what} signed by ${zk.zone} (algorithm ${v.sig.algorithm}, key ${v.sig.keyTag})`,
      ttl: v.ttl,
      zone: zk.zone,
    }
  }

  /** NXDOMAIN / NODATA for (name, qtype): signed SOA and NSEC/NSEC3 proof, or provably insecure (RFC 4035 §5.4). */
  const negativeVerdict = async (name: Name, qtype: number, msg: Message): Promise<Verdict & { ttl: number }> => {
    const soa = groupRrsets(msg.authorities).find((g) => g.type === TYPE.SOA && isSubdomain(name, g.name))
    const negTtl = soa === undefined ? 0 : Math.min(soa.rrs[0]?.ttl ?? 0, safeMinimum(soa.rrs[0]))
    const kind = msg.rcode === RCODE.NXDOMAIN ? 'NXDOMAIN' : 'NODATA'
    const signer = soa?.sigs.map((s) => safeSigner(s)).find((s) => s !== undefined && isSubdomain(name, s))
    if (soa === undefined || signer === undefined) {
      const zk = await chain.zoneFor(name)
      if (zk.status === 'insecure') return { status: 'insecure', reason: `${kind} for ${name} unsigned: ${zk.reason}`, ttl: negTtl }
      if (zk.status === 'secure')
        return { status: 'bogus', reason: `${kind} for ${name} without a signed SOA, but ${zk.zone} is signed`, ttl: 0 }
      return { status: zk.status, reason: zk.reason, ttl: 0 }
    }
    const zk = await chain.keysForSigner(signer)
    if (zk.status === 'insecure') return { status: 'insecure', reason: `${kind} for ${name}: ${zk.reason}`, ttl: negTtl }
    if (zk.status !== 'secure') return { status: zk.status, reason: zk.reason, ttl: 0 }
    const d = proveDenial(name, qtype, msg, zk, clock)
    if (!d.ok) return { status: d.status ?? 'bogus', reason: `${kind} for ${name} not proven: ${d.reason}`, ttl: 0 }
    if (d.insecure === true || (d.optOut === true && d.nxdomain === true)) {
      return {
        status: 'insecure',
        reason: `${kind} for ${name} inside an NSEC3 opt-out span or with costly NSEC3: ${d.reason}`,
        ttl: negTtl,
      }
    }
    return { status: 'secure', reason: d.reason, ttl: negTtl }
  }

  return {
    async validate(qname, qtype, msg) {
      let cur = qname
      const cnames: Rr[] = []
      let verdict: Verdict = { status: 'secure', reason: '' }
      let ttl = Number.POSITIVE_INFINITY
      const merge = (v: Verdict & { ttl: number }): void => {
        // equal rank: the later (closer to the final data) reason wins
        verdict = verdict.reason === '' || RANK[v.status] >= RANK[verdict.status] ? { status: v.status, reason: v.reason } : verdict
        ttl = Math.min(ttl, v.ttl)
      }
      for (let hop = 0; hop <= MAX_CNAMES; hop++) {
        const data = findRrset(msg.answers, cur, qtype)
        if (data !== undefined) {
          const v = await rrsetVerdict(data, msg)
          merge(v)
          const out: Validated = { ...verdict, rrset: data.rrs, cnames, ttl }
          if (v.zone !== undefined) out.zone = v.zone
          return out
        }
        const cname = qtype === TYPE.CNAME ? undefined : findRrset(msg.answers, cur, TYPE.CNAME)
        if (cname === undefined) break
        merge(await rrsetVerdict(cname, msg))
        cnames.push(...cname.rrs)
        const first = cname.rrs[0] as Rr
        cur = parseTarget(first.rdata)
      }
      if (cnames.length > MAX_CNAMES) return { status: 'bogus', reason: `more than ${MAX_CNAMES} CNAMEs`, rrset: [], cnames, ttl: 0 }
      const hasSoa = msg.authorities.some((r) => r.type === TYPE.SOA)
      if (msg.rcode === RCODE.NXDOMAIN || hasSoa) {
        merge(await negativeVerdict(cur, qtype, msg))
        return { ...verdict, rrset: [], cnames, ttl, negative: msg.rcode === RCODE.NXDOMAIN ? 'nxdomain' : 'nodata' }
      }
      if (cnames.length > 0) return { ...verdict, rrset: [], cnames, ttl, follow: cur }
      return {
        status: 'indeterminate',
        reason: `no answer and no SOA for ${qname} ${typeToString(qtype)} (a referral?)`,
        rrset: [],
        cnames,
        ttl: 0,
      }
    },
  }
}

function safeSigner(s: Rr): Name | undefined {
  try {
    return parseRrsig(s.rdata).signer
  } catch {
    return undefined
  }
}

function safeMinimum(soa: Rr | undefined): number {
  try {
    return soa === undefined ? 0 : soaMinimum(soa.rdata)
  } catch {
    return 0
  }
}
