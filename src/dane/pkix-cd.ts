/** PKIX-CD: authenticate a certificate by a chain to its zone owner's CA, fetched over Web-PKI HTTPS (docs/contract.md "PKIX-CD"). */

import { bytesEqual } from '../bytes.js'
import type { Clock } from '../clock.js'
import { DaneelError } from '../errors.js'
import { Lru } from '../lru.js'
import { SingleFlight } from '../single-flight.js'
import { type CertView, isIssuedBy, viewCertificate } from './cert-view.js'
import type { HttpsFetcher } from './https-fetch.js'
import { identityDomain } from './names.js'

/** At most this many CA certificates above the entity (issue 4 item 5: chain depth at most 4). */
export const PKIXCD_MAX_DEPTH = 4
/** CA certificates are cached this long by default (they change rarely; a rollover publishes a new keyid URL). */
export const PKIXCD_CACHE_TTL_MS = 3_600_000

/** `<domain>`: what follows the rightmost underscore label, e.g. `a.b._device.example.com` → `example.com`. */
export const pkixCdDomain = identityDomain

/** Lower-case hex bytes joined by '-', the `<keyid>` form of an authorityKeyIdentifier. */
export function keyIdString(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('-')
}

/** The CA certificate URL for an identity name and the entity certificate's AKI. */
export function pkixCdUrl(identityName: string, aki: Uint8Array): string {
  return `https://device.${pkixCdDomain(identityName)}/.well-known/ca/${keyIdString(aki)}.pem`
}

/** The CERTIFICATE blocks of a PEM text, in order (anything else in the file is ignored). */
export function certificatesFromPem(text: string): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g)) {
    out.push(new Uint8Array(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64')))
  }
  return out
}

function checkDates(c: CertView, what: string, now: number): void {
  if (c.unknownCritical.length > 0)
    throw new DaneelError('ERR_CERT_INVALID', `${what} has unknown critical extensions ${c.unknownCritical.join(', ')}`)
  if (now < c.notBefore)
    throw new DaneelError('ERR_CERT_NOT_YET_VALID', `${what} is not valid before ${new Date(c.notBefore).toISOString()}`)
  if (now > c.notAfter) throw new DaneelError('ERR_CERT_EXPIRED', `${what} expired ${new Date(c.notAfter).toISOString()}`)
}

export interface PkixCdChain {
  entity: CertView
  /** The CA certificates used, issuer of the entity first. */
  cas: CertView[]
}

/**
 * Verifies `entityDer` for `name` against CA certificates authenticated by HTTPS (RFC 5280 §6.1, reduced: the
 * fetched CA is the trust anchor). Checks: a dNSName equal to `name`; signatures along the chain; every CA with
 * BasicConstraints CA:TRUE and keyUsage keyCertSign; pathLen; validity dates of every certificate. Throws typed errors.
 */
export function verifyPkixCdChain(
  name: string,
  entityIn: Uint8Array | CertView,
  casIn: ReadonlyArray<Uint8Array | CertView>,
  clock: Clock,
): PkixCdChain {
  if (!clock.synced()) throw new DaneelError('ERR_CLOCK_UNSYNCED', 'clock not synced: PKIX-CD dates cannot be checked')
  const now = clock.now()
  const view = (c: Uint8Array | CertView): CertView => (c instanceof Uint8Array ? viewCertificate(c) : c)
  const entity = view(entityIn)
  const want = name.toLowerCase().replace(/\.$/, '')
  if (!entity.dnsNames.some((n) => n.toLowerCase().replace(/\.$/, '') === want)) {
    throw new DaneelError('ERR_PKIXCD_CHAIN', `no dNSName of the certificate equals ${want} (has: ${entity.dnsNames.join(', ') || 'none'})`)
  }
  checkDates(entity, 'the entity certificate', now)
  const pool = casIn.map(view)
  const cas: CertView[] = []
  let child = entity
  for (;;) {
    // the issuer: its SKI equals the child's AKI when both exist, and its key verifies the child's signature
    const issuer = pool.find(
      (c) => !cas.includes(c) && (child.aki === undefined || c.ski === undefined || bytesEqual(c.ski, child.aki)) && isIssuedBy(child, c),
    )
    if (issuer === undefined) break
    const depth = cas.length + 1
    if (depth > PKIXCD_MAX_DEPTH) throw new DaneelError('ERR_PKIXCD_CHAIN', `chain deeper than ${PKIXCD_MAX_DEPTH} CA certificates`)
    const what = `CA certificate at depth ${depth}`
    if (!issuer.ca) throw new DaneelError('ERR_CERT_NOT_CA', `${what} lacks BasicConstraints CA:TRUE`)
    if (issuer.keyCertSign !== true) throw new DaneelError('ERR_CERT_KEY_USAGE', `${what} lacks keyUsage keyCertSign`)
    // pathLen counts the CA certificates between this CA and the entity (RFC 5280 §4.2.1.9)
    if (issuer.pathLen !== undefined && cas.length > issuer.pathLen) {
      throw new DaneelError('ERR_CERT_PATHLEN', `${what} allows ${issuer.pathLen} CAs below it, the chain has ${cas.length}`)
    }
    checkDates(issuer, what, now)
    cas.push(issuer)
    if (issuer.selfIssued) break
    child = issuer
  }
  if (cas.length === 0) throw new DaneelError('ERR_PKIXCD_CHAIN', 'no fetched CA certificate issued the entity certificate')
  return { entity, cas }
}

export interface PkixCdOptions {
  fetchCa: HttpsFetcher
  clock: Clock
  cacheTtlMs?: number
  maxCacheEntries?: number
}

export interface PkixCdResult extends PkixCdChain {
  url: string
}

export interface PkixCd {
  /** Fetches (or takes from the cache) the CA for `entityDer` and verifies the chain for `name`. */
  authenticate(name: string, entityDer: Uint8Array): Promise<PkixCdResult>
}

/** PKIX-CD with a CA cache by URL (TTL, bounded) and concurrent fetches of one URL coalesced. */
export function createPkixCd(opts: PkixCdOptions): PkixCd {
  const ttl = opts.cacheTtlMs ?? PKIXCD_CACHE_TTL_MS
  const max = opts.maxCacheEntries ?? 256
  const cache = new Lru<string, { cas: CertView[]; until: number }>(max)
  const inflight = new SingleFlight<string, CertView[]>()

  const fetchCas = async (url: string): Promise<CertView[]> => {
    const hit = cache.peek(url)
    if (hit !== undefined && hit.until > opts.clock.now()) return hit.cas
    return inflight.run(url, async () => {
      const body = await opts.fetchCa(url)
      const cas = certificatesFromPem(Buffer.from(body).toString('latin1')).map((d) => viewCertificate(d))
      if (cas.length === 0) throw new DaneelError('ERR_PKIXCD_FETCH', `${url}: no PEM certificate in the answer`)
      cache.set(url, { cas, until: opts.clock.now() + ttl })
      return cas
    })
  }

  return {
    async authenticate(name, entityDer) {
      const entity = viewCertificate(entityDer)
      if (entity.aki === undefined)
        throw new DaneelError('ERR_PKIXCD_CHAIN', 'the certificate has no authorityKeyIdentifier: no PKIX-CD URL')
      const url = pkixCdUrl(name, entity.aki)
      const cas = await fetchCas(url)
      return { url, ...verifyPkixCdChain(name, entity, cas, opts.clock) }
    },
  }
}
