/** Wires settings to the parts the monitor and the identity self-check use: our validating resolver, PKIX-CD, the matcher. */
import { createPeerTrust } from '../../settings/peers.js'
import type { Settings } from '../../settings/settings.js'
import { type Clock, systemClock } from '../../src/clock.js'
import { resolverHostLookup } from '../../src/dane/host-resolver.js'
import type { Resolver } from '../../src/dns/resolver.js'
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
  const { resolver, pkixCd } = createPeerTrust(settings, { clock })
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
