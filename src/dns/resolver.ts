/** The stub resolver: servers with timeouts and retries, UDP then TCP on truncation, cache, DNSSEC validation or DNSSEC=resolver. */
import type { Clock } from '../clock.js'
import { decodeTlsaRdata } from '../dane/tlsa.js'
import type { TlsaRecord } from '../dane/types.js'
import { DaneelError, isDaneelError } from '../errors.js'
import { MAX_CONFIG_FILE_BYTES, readTextBounded } from '../read-file.js'
import { SingleFlight } from '../single-flight.js'
import { createCache, type DnsCache } from './cache.js'
import type { TrustAnchor } from './dnssec/anchors.js'
import { createChain } from './dnssec/chain.js'
import { createValidator, worse } from './dnssec/validator.js'
import { type Name, toName } from './name.js'
import { parseTarget } from './rdata.js'
import { findRrset } from './rrsets.js'
import { formatServer, matchesQuery, netTransport, parseServer, type ServerAddress, type Transport } from './transport.js'
import type { DnsAnswer } from './types.js'
import { decodeMessage, encodeQuery, FLAG, type Message, RCODE, rcodeToString, TYPE } from './wire.js'

export interface ResolverOptions {
  /** "host[:port]" (IPv4, IPv6 as "[::1]:53"); from DNS_SERVER or /etc/resolv.conf (`systemServers()`). */
  servers: string[]
  transport?: Transport
  /** Per attempt (default 2000 ms). */
  timeoutMs?: number
  /** Extra rounds over the server list after the first (default 1). */
  retries?: number
  /** An answer cache (default: a fresh one); pass `null` for none. */
  cache?: DnsCache | null
  clock: Clock
  trustAnchors: TrustAnchor[]
  /** 'validate' (default): we validate. 'resolver': trust the AD bit of a loopback resolver (weaker; see src/dns/README.md). */
  mode?: 'validate' | 'resolver'
}

export interface Resolver {
  query(name: string, type: number): Promise<DnsAnswer>
  lookupTlsa(name: string): Promise<{
    records: TlsaRecord[]
    /** Records of the RRset that do not decode (RFC 6698 §4.1: unusable), left out of `records`. */
    unusable: number
    status: DnsAnswer['status']
    reason: string
    ttl: number
    answer: DnsAnswer
  }>
  /** Counters for tests and benchmarks. */
  readonly stats: { sent: number; tcp: number }
}

const MAX_CNAMES = 8

/** nameserver lines of resolv.conf (default /etc/resolv.conf), as "host:53"; port numbers are not part of that format. */
export function systemServers(path = '/etc/resolv.conf'): string[] {
  let text = ''
  try {
    text = readTextBounded(path, { maxBytes: MAX_CONFIG_FILE_BYTES, what: 'resolver configuration' })
  } catch (err) {
    throw new DaneelError('ERR_CONFIG_INVALID', `no DNS_SERVER set and ${path} unreadable`, { cause: err })
  }
  const out = text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((s): s is string => s !== undefined)
  if (out.length === 0) throw new DaneelError('ERR_CONFIG_INVALID', `no DNS_SERVER set and no nameserver in ${path}`)
  return out.map((s) => (s.includes(':') ? `[${s.replace(/%.*$/, '')}]:53` : `${s}:53`))
}

const isLoopback = (a: ServerAddress): boolean => (a.family === 4 ? a.host.startsWith('127.') : a.host === '::1')

export function createResolver(opts: ResolverOptions): Resolver {
  const servers = opts.servers.map(parseServer)
  // one string per server, shared by every answer (cached answers name their server: one per device at a gateway)
  const serverNames = new Map(servers.map((s) => [s, formatServer(s)]))
  if (servers.length === 0) throw new DaneelError('ERR_CONFIG_INVALID', 'no DNS server configured')
  const mode = opts.mode ?? 'validate'
  if (mode === 'resolver' && !servers.every(isLoopback)) {
    throw new DaneelError(
      'ERR_CONFIG_INVALID',
      'DNSSEC=resolver trusts the AD bit, so every DNS server must be on loopback (127.0.0.0/8 or ::1)',
    )
  }
  const transport = opts.transport ?? netTransport
  const timeoutMs = opts.timeoutMs ?? 2000
  const retries = opts.retries ?? 1
  const cache = opts.cache === null ? undefined : (opts.cache ?? createCache({ clock: opts.clock }))
  const stats = { sent: 0, tcp: 0 }
  const inflight = new SingleFlight<string, { msg: Message; server: string; tcp: boolean }>()

  /** One question to the servers in turn; TC → the same server over TCP (the truncated reply is discarded whole). */
  const exchangeOnce = async (name: Name, type: number): Promise<{ msg: Message; server: string; tcp: boolean }> => {
    const question = { name, type, class: 1 }
    const failures: string[] = []
    let servfail = false
    let malformed = false
    for (let round = 0; round <= retries; round++) {
      for (const server of servers) {
        try {
          let tcp = false
          let q = encodeQuery({ name, type, cd: mode === 'validate' })
          stats.sent++
          let bytes = await transport.exchange({ server, bytes: q.bytes, id: q.id, question, tcp, timeoutMs })
          if (!matchesQuery(bytes, q.id, question)) throw new DaneelError('ERR_DNS_FORMAT', 'reply does not match the query')
          let msg = decodeMessage(bytes)
          if ((msg.flags & FLAG.TC) !== 0) {
            // Knot drops the RRSIGs from a truncated reply: never use any of it (RFC 2181 §9).
            tcp = true
            stats.tcp++
            stats.sent++
            q = encodeQuery({ name, type, cd: mode === 'validate' })
            bytes = await transport.exchange({ server, bytes: q.bytes, id: q.id, question, tcp, timeoutMs })
            if (!matchesQuery(bytes, q.id, question)) throw new DaneelError('ERR_DNS_FORMAT', 'TCP reply does not match the query')
            msg = decodeMessage(bytes)
          }
          if (msg.rcode !== RCODE.NOERROR && msg.rcode !== RCODE.NXDOMAIN) {
            servfail = true
            failures.push(`${formatServer(server)}: ${rcodeToString(msg.rcode)}`)
            continue
          }
          return { msg, server: serverNames.get(server) ?? formatServer(server), tcp }
        } catch (err) {
          if (isDaneelError(err, 'ERR_DNS_FORMAT')) malformed = true
          failures.push(`${formatServer(server)}: ${(err as Error).message}`)
        }
      }
    }
    // The code names what the servers did, most telling first: an answer of SERVFAIL/REFUSED, then a reply we could
    // not use (malformed, cut short, or not matching the query: ERR_DNS_FORMAT), and only when nothing came back at
    // all, a timeout. A malformed reply used to be reported as ERR_DNS_TIMEOUT, which sent operators looking at the
    // network instead of at the server (or at whoever injected the garbage).
    const code = servfail ? 'ERR_DNS_SERVFAIL' : malformed ? 'ERR_DNS_FORMAT' : 'ERR_DNS_TIMEOUT'
    throw new DaneelError(
      code,
      `no usable answer for ${name} type ${type} from ${servers.length} server(s): ${failures.slice(-3).join('; ')}`,
    )
  }

  /** Identical questions in flight share one exchange (the validator asks for the same DS/DNSKEY concurrently). */
  const exchange = (name: Name, type: number): Promise<{ msg: Message; server: string; tcp: boolean }> => {
    return inflight.run(`${type}/${name}`, () => exchangeOnce(name, type))
  }

  const chain = createChain({ fetch: async (n, t) => (await exchange(n, t)).msg, anchors: opts.trustAnchors, clock: opts.clock })
  const validator = createValidator({ chain, clock: opts.clock })

  /** DNSSEC=resolver: no validation here; the AD bit of the loopback resolver decides (RFC 4035 §4.9.3, RFC 6698 §4.1). */
  const trustAd = (name: Name, type: number, msg: Message): Omit<DnsAnswer, 'source' | 'server' | 'tcp' | 'name' | 'type' | 'rcode'> => {
    const cnames = []
    let cur = name
    for (let i = 0; i < MAX_CNAMES; i++) {
      const c = findRrset(msg.answers, cur, TYPE.CNAME)
      if (c === undefined || type === TYPE.CNAME) break
      cnames.push(...c.rrs)
      cur = parseTarget((c.rrs[0] as { rdata: Uint8Array }).rdata)
    }
    const data = findRrset(msg.answers, cur, type)
    const ad = (msg.flags & FLAG.AD) !== 0
    const base = {
      status: ad ? ('secure' as const) : ('insecure' as const),
      reason: ad
        ? 'AD bit set by the loopback resolver (DNSSEC=resolver: not validated here)'
        : 'the loopback resolver did not set AD (DNSSEC=resolver)',
      rrset: data?.rrs ?? [],
      cnames,
      ttl: Math.min(...(data?.rrs ?? msg.authorities).map((r) => r.ttl), 3600),
    }
    if (data === undefined) return { ...base, negative: msg.rcode === RCODE.NXDOMAIN ? 'nxdomain' : 'nodata' }
    return base
  }

  const resolve = async (name: Name, type: number, depth: number): Promise<DnsAnswer> => {
    const load = async (): Promise<DnsAnswer> => {
      const r = await exchange(name, type)
      const head = { name, type, rcode: r.msg.rcode, source: 'network' as const, server: r.server, tcp: r.tcp }
      if (mode === 'resolver') return { ...head, ...trustAd(name, type, r.msg) }
      const v = await validator.validate(name, type, r.msg)
      if (v.follow === undefined) {
        const a: DnsAnswer = { ...head, status: v.status, reason: v.reason, rrset: v.rrset, cnames: v.cnames, ttl: v.ttl }
        return v.negative === undefined ? a : { ...a, negative: v.negative }
      }
      // The server stopped at a CNAME leaving its zone: ask for the target and join the two verdicts.
      if (depth + v.cnames.length >= MAX_CNAMES)
        return { ...head, status: 'bogus', reason: `CNAME chain longer than ${MAX_CNAMES}`, rrset: [], cnames: v.cnames, ttl: 0 }
      const next = await resolve(v.follow, type, depth + v.cnames.length)
      const w = worse(v, next)
      const a: DnsAnswer = {
        ...head,
        rcode: next.rcode,
        status: w.status,
        reason: w.reason,
        rrset: next.rrset,
        cnames: [...v.cnames, ...next.cnames],
        ttl: Math.min(v.ttl, next.ttl),
      }
      return next.negative === undefined ? a : { ...a, negative: next.negative }
    }
    return cache === undefined ? load() : cache.resolve(`${type}/${name}`, load)
  }

  return {
    stats,
    query: (name, type) => resolve(toName(name), type, 0),
    async lookupTlsa(name) {
      const answer = await resolve(toName(name), TYPE.TLSA, 0)
      const records: TlsaRecord[] = []
      let unusable = 0
      for (const rr of answer.rrset) {
        try {
          records.push(decodeTlsaRdata(rr.rdata))
        } catch {
          unusable++ // RFC 6698 §4.1: a malformed record, or one with unknown parameters, is unusable and skipped; the rest of the RRset still counts
        }
      }
      return { records, unusable, status: answer.status, reason: answer.reason, ttl: answer.ttl, answer }
    },
  }
}
