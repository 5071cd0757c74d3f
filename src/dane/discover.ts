/** DANE discovery: a peer's key from its validated TLSA RRset (DNSSEC), or from PKIX-CD when the zone is provably insecure. */
import { createPublicKey, X509Certificate } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { ValidationStatus } from '../dns/types.js'
import { DaneelError } from '../errors.js'
import type { Logger } from '../log.js'
import { Lru } from '../lru.js'
import { SingleFlight } from '../single-flight.js'
import { isP256Spki } from '../x509/spki.js'
import type { HttpsFetcher } from './https-fetch.js'
import { createPkixCd, type PkixCd } from './pkix-cd.js'
import type { TlsaRecord } from './types.js'

/** What discovery needs from the resolver (src/dns/resolver.ts `createResolver(...)`). */
export interface TlsaSource {
  /** `unusable`: records of the RRset that did not decode (malformed, or parameters we do not know), left out of `records`. */
  lookupTlsa(name: string): Promise<{ records: TlsaRecord[]; status: ValidationStatus; reason: string; ttl: number; unusable?: number }>
}

export interface PeerIdentity {
  /** The identity name, lower case, without the final dot. */
  name: string
  /** The certificate, when the key came from a full-certificate record (`3 0 0`, `4 0 0`). */
  certDer?: Uint8Array
  /** The preferred key (SPKI DER): the first usable record. */
  spki: Uint8Array
  /** Every usable published key: during a rollover a signature by any of them is accepted. */
  spkis: Uint8Array[]
  /** The certificates behind `spkis` where known (same order; undefined for `3 1 0`). */
  certs: Array<Uint8Array | undefined>
  auth: 'dnssec' | 'pkix-cd'
  /** The whole RRset as published. */
  records: TlsaRecord[]
  /** Clock time (ms) after which this answer must be looked up again. */
  expiresAt: number
}

export interface PeerDirectoryOptions {
  resolver: TlsaSource
  clock: Clock
  /** NO_DNSSEC: authenticate every certificate by PKIX-CD, whatever DNSSEC says. */
  noDnssec: boolean
  /** The PKIX-CD CA fetcher (src/dane/https-fetch.ts `createHttpsFetcher`); without it PKIX-CD fails closed. */
  fetchCa?: HttpsFetcher
  /** Or a ready PKIX-CD authenticator (shares its CA cache). */
  pkixCd?: PkixCd
  /** Upper bound of the per-name cache (default 5 minutes); the record TTL bounds it too. */
  cacheTtlMs?: number
  maxEntries?: number
  log?: Logger
}

export interface PeerDirectory {
  lookup(name: string): Promise<PeerIdentity>
  /** The cached answer while it is fresh, synchronously (no lookup, no promise); undefined otherwise. */
  peek?(name: string): PeerIdentity | undefined
  /** Drops cached answers (all, or one name): e.g. when a signature fails, look again once. */
  forget(name?: string): void
}

const spkiOfCert = (der: Uint8Array): Uint8Array =>
  new Uint8Array(new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }))

/** A key from a DANE-EE full record: `3 0 0` (certificate) or `3 1 0` (SPKI); unusable records give undefined. */
function keyOfRecord(r: TlsaRecord): { spki: Uint8Array; cert?: Uint8Array } | undefined {
  if (r.usage !== 3 || r.matchingType !== 0) return undefined
  try {
    if (r.selector === 0) return { spki: spkiOfCert(r.data), cert: r.data }
    // the devices' own key type, checked in microseconds; anything else goes through OpenSSL's parser
    if (!isP256Spki(r.data)) createPublicKey({ key: Buffer.from(r.data), format: 'der', type: 'spki' })
    return { spki: r.data }
  } catch {
    return undefined // a record that does not parse is skipped, as RFC 6698 §4.1 says of unusable records
  }
}

const NO_CERT: Array<Uint8Array | undefined> = Object.freeze([undefined]) as unknown as Array<Uint8Array | undefined>

/** Normalises a name: lower case, no final dot. */
export const normalName = (name: string): string => name.trim().toLowerCase().replace(/\.$/, '')

export function createPeerDirectory(opts: PeerDirectoryOptions): PeerDirectory {
  const maxTtl = opts.cacheTtlMs ?? 300_000
  const maxEntries = opts.maxEntries ?? 1024
  const pkix = opts.pkixCd ?? (opts.fetchCa === undefined ? undefined : createPkixCd({ fetchCa: opts.fetchCa, clock: opts.clock }))
  const cache = new Lru<string, PeerIdentity>(maxEntries)
  const inflight = new SingleFlight<string, PeerIdentity>()

  const viaDnssec = (name: string, records: TlsaRecord[], ttl: number): PeerIdentity => {
    const keys = records.map(keyOfRecord).filter((k) => k !== undefined)
    const first = keys[0]
    if (first === undefined) {
      throw new DaneelError('ERR_TLSA_UNSUPPORTED', `${name}: no 3 0 0 or 3 1 0 record carries a key (${records.length} record(s))`)
    }
    const id: PeerIdentity = {
      name,
      spki: first.spki,
      spkis: keys.map((k) => k.spki),
      // `3 1 0` carries no certificate: one shared list instead of one per peer (a gateway keeps thousands)
      certs: keys.length === 1 && first.cert === undefined ? NO_CERT : keys.map((k) => k.cert),
      auth: 'dnssec',
      // a copy of exact length: the resolver's list grew by push, with room for 16 records (a gateway keeps one per peer)
      records: records.slice(),
      expiresAt: opts.clock.now() + Math.min(maxTtl, Math.max(0, ttl) * 1000),
    }
    if (first.cert !== undefined) id.certDer = first.cert
    return id
  }

  const viaPkixCd = async (name: string, records: TlsaRecord[], ttl: number, status: ValidationStatus): Promise<PeerIdentity> => {
    // a provably unsigned answer can only be authenticated by PKIX-CD; without it there is nothing to trust
    if (pkix === undefined && status === 'insecure' && !opts.noDnssec)
      throw new DaneelError('ERR_DNSSEC_INSECURE', `${name}: the TLSA answer is provably unsigned and PKIX-CD is not configured`)
    if (pkix === undefined) throw new DaneelError('ERR_PKIXCD_FETCH', `${name}: PKIX-CD needed but no CA fetcher configured`)
    const certs = records.filter((r) => (r.usage === 4 || r.usage === 3) && r.selector === 0 && r.matchingType === 0)
    if (certs.length === 0)
      throw new DaneelError('ERR_TLSA_UNSUPPORTED', `${name}: PKIX-CD needs a 4 0 0 or 3 0 0 record (the full certificate)`)
    const ok: Array<{ spki: Uint8Array; cert: Uint8Array; notAfter: number }> = []
    let firstErr: unknown
    for (const r of certs) {
      try {
        const res = await pkix.authenticate(name, r.data)
        ok.push({ spki: res.entity.spkiDer, cert: r.data, notAfter: res.entity.notAfter })
      } catch (err) {
        opts.log?.debug('PKIX-CD rejected a certificate', { name, reason: (err as Error).message })
        firstErr ??= err
      }
    }
    const first = ok[0]
    if (first === undefined) throw firstErr
    const until = Math.min(opts.clock.now() + Math.min(maxTtl, Math.max(0, ttl) * 1000), ...ok.map((k) => k.notAfter))
    return {
      name,
      certDer: first.cert,
      spki: first.spki,
      spkis: ok.map((k) => k.spki),
      certs: ok.map((k) => k.cert),
      auth: 'pkix-cd',
      records,
      expiresAt: until,
    }
  }

  const discover = async (name: string): Promise<PeerIdentity> => {
    // NXDOMAIN and NODATA come back as an empty RRset with their DNSSEC status (the denial is validated too)
    const answer = await opts.resolver.lookupTlsa(name)
    const { records, status, reason, ttl } = answer
    // fail closed: only secure answers are used as such, only provably insecure ones (or NO_DNSSEC) go to PKIX-CD
    if (!opts.noDnssec && status === 'bogus') throw new DaneelError('ERR_DNSSEC_BOGUS', `${name}: ${reason}`)
    if (!opts.noDnssec && status === 'indeterminate') throw new DaneelError('ERR_DNSSEC_INDETERMINATE', `${name}: ${reason}`)
    if (records.length === 0 && (answer.unusable ?? 0) > 0)
      throw new DaneelError('ERR_TLSA_UNSUPPORTED', `${name}: none of the ${answer.unusable} TLSA record(s) is usable (${status})`)
    if (records.length === 0) throw new DaneelError('ERR_TLSA_NONE', `${name}: no TLSA records published (${status})`)
    if (!opts.noDnssec && status === 'secure') return viaDnssec(name, records, ttl)
    return viaPkixCd(name, records, ttl, status)
  }

  return {
    async lookup(rawName) {
      const name = normalName(rawName)
      const hit = cache.peek(name)
      if (hit !== undefined && hit.expiresAt > opts.clock.now()) return hit
      return inflight.run(name, () =>
        discover(name).then((id) => {
          cache.set(name, id)
          return id
        }),
      )
    },
    peek(rawName) {
      // names reach us normalised from the opener (src/message/x5u.ts): try as given before normalising
      const hit = cache.peek(rawName) ?? cache.peek(normalName(rawName))
      return hit !== undefined && hit.expiresAt > opts.clock.now() ? hit : undefined
    },
    forget(name) {
      if (name === undefined) cache.clear()
      else cache.delete(normalName(name))
    },
  }
}
