/**
 * The one place settings become peer trust: our validating resolver (DNS_SERVER or /etc/resolv.conf,
 * DNSSEC_TRUST_ANCHORS, the DNSSEC mode), PKIX-CD over Web-PKI HTTPS with its host resolved through that resolver,
 * and the DANE peer directory on both. Used by the CLI commands, the monitor and the device platform.
 */
import { type Clock, systemClock } from '../src/clock.js'
import { createPeerDirectory, type PeerDirectory } from '../src/dane/discover.js'
import { resolverHostLookup } from '../src/dane/host-resolver.js'
import { createHttpsFetcher } from '../src/dane/https-fetch.js'
import { createPkixCd, type PkixCd } from '../src/dane/pkix-cd.js'
import { createCache } from '../src/dns/cache.js'
import { loadTrustAnchors } from '../src/dns/dnssec/anchors.js'
import { createResolver, type Resolver, systemServers } from '../src/dns/resolver.js'
import type { Logger } from '../src/log.js'
import type { Settings } from './settings.js'

/** The settings peer trust depends on. */
export type TrustSettings = Pick<Settings, 'dnsServers' | 'trustAnchorsFile' | 'dnssecMode' | 'noDnssec'>

export interface PeerTrust {
  readonly resolver: Resolver
  /** PKIX-CD for names in proven-insecure zones (or every name with NO_DNSSEC). */
  readonly pkixCd: PkixCd
  /** TLSA lookups through the resolver, falling back to PKIX-CD where the rules allow. */
  readonly directory: PeerDirectory
}

export interface PeerTrustOptions {
  /** Default the system clock (a device passes src/clock.ts `linuxClock`). */
  readonly clock?: Clock
  readonly log?: Logger
  /** Per-query timeout of the resolver (default 2000 ms). */
  readonly timeoutMs?: number
  /**
   * Peers whose keys are kept (default 1024, the DNS answer cache 4096). A gateway hearing from more devices than
   * this would evict one to admit another: every reading a DNS lookup, and nothing left to serve stale.
   */
  readonly maxPeers?: number
}

/** Builds the resolver, PKIX-CD and the peer directory from settings. */
export function createPeerTrust(settings: TrustSettings, opts: PeerTrustOptions = {}): PeerTrust {
  const clock = opts.clock ?? systemClock
  const resolver = createResolver({
    servers: settings.dnsServers ?? systemServers(),
    clock,
    trustAnchors: loadTrustAnchors(settings.trustAnchorsFile),
    mode: settings.dnssecMode,
    ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    // every peer's TLSA answer, plus the zones' DNSKEY/DS and a margin for names that do not exist
    ...(opts.maxPeers === undefined ? {} : { cache: createCache({ clock, maxEntries: opts.maxPeers + 4096 }) }),
  })
  // system roots plus NODE_EXTRA_CA_CERTS (read by Node at start-up): Web-PKI validation of the CA's server
  const pkixCd = createPkixCd({ clock, fetchCa: createHttpsFetcher({ resolveHost: resolverHostLookup(resolver) }) })
  const directory = createPeerDirectory({
    resolver,
    clock,
    noDnssec: settings.noDnssec,
    pkixCd,
    ...(opts.log === undefined ? {} : { log: opts.log }),
    ...(opts.maxPeers === undefined ? {} : { maxEntries: opts.maxPeers }),
  })
  return { resolver, pkixCd, directory }
}

/** The peer directory alone (seal, open, send, listen). */
export function peerDirectory(settings: TrustSettings, log: Logger): PeerDirectory {
  return createPeerTrust(settings, { log }).directory
}
