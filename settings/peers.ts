/** The DANE peer directory every networked command shares: our validating resolver, PKIX-CD over it when a zone is insecure. */
import { systemClock } from '../src/clock.js'
import { createPeerDirectory, type PeerDirectory } from '../src/dane/discover.js'
import { resolverHostLookup } from '../src/dane/host-resolver.js'
import { createHttpsFetcher } from '../src/dane/https-fetch.js'
import { createPkixCd } from '../src/dane/pkix-cd.js'
import { loadTrustAnchors } from '../src/dns/dnssec/anchors.js'
import { createResolver, systemServers } from '../src/dns/resolver.js'
import type { Logger } from '../src/log.js'
import type { Settings } from './settings.js'

/** Builds the resolver (DNS_SERVER or /etc/resolv.conf, DNSSEC_TRUST_ANCHORS, DNSSEC mode) and the directory on it. */
export function peerDirectory(settings: Settings, log: Logger): PeerDirectory {
  const resolver = createResolver({
    servers: settings.dnsServers ?? systemServers(),
    clock: systemClock,
    trustAnchors: loadTrustAnchors(settings.trustAnchorsFile),
    mode: settings.dnssecMode,
  })
  const pkixCd = createPkixCd({ clock: systemClock, fetchCa: createHttpsFetcher({ resolveHost: resolverHostLookup(resolver) }) })
  return createPeerDirectory({ resolver, clock: systemClock, noDnssec: settings.noDnssec, pkixCd, log })
}
