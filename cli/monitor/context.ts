/** Wires settings to the parts the monitor and the identity self-check use: our validating resolver, PKIX-CD, the matcher. */

import type { Settings } from '../../settings/settings.js'
import { type Clock, systemClock } from '../../src/clock.js'
import { resolverHostLookup } from '../../src/dane/host-resolver.js'
import { createHttpsFetcher } from '../../src/dane/https-fetch.js'
import { createPkixCd } from '../../src/dane/pkix-cd.js'
import { loadTrustAnchors } from '../../src/dns/dnssec/anchors.js'
import { createResolver, type Resolver, systemServers } from '../../src/dns/resolver.js'
import type { ChainMatcher } from '../../src/monitor/checks.js'
import { createChainMatcher } from '../../src/monitor/matcher.js'
import type { ObserveContext } from './observe.js'

export interface CliContext extends ObserveContext {
  resolver: Resolver
  clock: Clock
  match: ChainMatcher
}

/** A/AAAA through our resolver (alias of src/dane/host-resolver.ts `resolverHostLookup`; cli/commands/listen.ts uses it). */
export const hostResolverOf = resolverHostLookup

export function createContext(settings: Settings, clock: Clock = systemClock): CliContext {
  const resolver = createResolver({
    servers: settings.dnsServers ?? systemServers(),
    clock,
    trustAnchors: loadTrustAnchors(settings.trustAnchorsFile),
    mode: settings.dnssecMode,
  })
  const resolveHost = resolverHostLookup(resolver)
  // system roots plus NODE_EXTRA_CA_CERTS (read by Node at start-up): Web-PKI validation of the CA's server
  const pkixCd = createPkixCd({ clock, fetchCa: createHttpsFetcher({ resolveHost }) })
  // services: connect even when the address is bogus (the verdict is already a failure; this only informs it)
  return {
    resolver,
    resolveHost: resolverHostLookup(resolver, { allowBogus: true }),
    clock,
    noDnssec: settings.noDnssec,
    pkixCd,
    match: createChainMatcher(() => clock.now()),
  }
}
