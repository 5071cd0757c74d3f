/** Wires settings to the parts the monitor and the identity self-check use: our validating resolver, PKIX-CD, the matcher. */
import { systemClock, type Clock } from '../../src/clock.js'
import { createResolver, systemServers, type Resolver } from '../../src/dns/resolver.js'
import { loadTrustAnchors } from '../../src/dns/dnssec/anchors.js'
import { createHttpsFetcher, type HostResolver } from '../../src/dane/https-fetch.js'
import { createPkixCd } from '../../src/dane/pkix-cd.js'
import { createChainMatcher } from '../../src/monitor/matcher.js'
import type { ChainMatcher } from '../../src/monitor/checks.js'
import type { Settings } from '../settings.js'
import type { ObserveContext } from './observe.js'

export interface CliContext extends ObserveContext {
  resolver: Resolver
  clock: Clock
  match: ChainMatcher
}

/** A/AAAA through our resolver (RFC 6698 §4: the host of a DANE service is looked up like its TLSA records). */
export function hostResolverOf(resolver: Resolver): HostResolver {
  return async (host) => {
    const out: Array<{ address: string; family: 4 | 6 }> = []
    for (const [type, family] of [[1, 4], [28, 6]] as const) {
      try {
        const a = await resolver.query(host, type)
        if (a.status === 'bogus') continue // a forged address could only misdirect; DANE still guards the key, but skip it
        for (const rr of a.rrset) {
          const b = rr.rdata
          if (family === 4 && b.length === 4) out.push({ address: Array.from(b).join('.'), family })
          if (family === 6 && b.length === 16) {
            const words = Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16))
            out.push({ address: words.join(':'), family })
          }
        }
      } catch {
        // no address of this family
      }
    }
    return out
  }
}

export function createContext(settings: Settings, clock: Clock = systemClock): CliContext {
  const resolver = createResolver({
    servers: settings.dnsServers ?? systemServers(),
    clock,
    trustAnchors: loadTrustAnchors(settings.trustAnchorsFile),
    mode: settings.dnssecMode,
  })
  const resolveHost = hostResolverOf(resolver)
  // system roots plus NODE_EXTRA_CA_CERTS (read by Node at start-up): Web-PKI validation of the CA's server
  const pkixCd = createPkixCd({ clock, fetchCa: createHttpsFetcher({ resolveHost }) })
  return { resolver, resolveHost, clock, noDnssec: settings.noDnssec, pkixCd, match: createChainMatcher(() => clock.now()) }
}
