/** The answer cache: TTL (clamped), negative caching (RFC 2308), bounded LRU, serve-stale (RFC 8767), coalesced loads. */
import type { Clock } from '../clock.js'
import { type DaneelError, isDaneelError } from '../errors.js'
import { Lru } from '../lru.js'
import { SingleFlight } from '../single-flight.js'
import type { DnsAnswer } from './types.js'
import type { Rr } from './wire.js'

export interface CacheOptions {
  clock: Clock
  /** Entries kept at most; the least recently used goes first (default 4096). */
  maxEntries?: number
  /** Positive TTL clamp in seconds (default 0..86400). */
  minTtl?: number
  maxTtl?: number
  /** RFC 2308 §5: negative answers at most this long (default 3600 s). */
  maxNegativeTtl?: number
  /** RFC 8767 §5: how long past expiry an answer may still be served when every server fails (default 1 day). */
  maxStale?: number
}

interface Entry {
  answer: DnsAnswer
  /** Stale until `maxStale` after this. */
  expiresAt: number
}

/** RFC 8767 §4: a stale answer is given a TTL of 30 s. */
const STALE_TTL = 30

export interface DnsCache {
  /**
   * The cached answer for `key` while fresh; otherwise runs `load` (one load per key at a time: concurrent
   * callers share it). When `load` fails with a network error and a stale answer exists, that is returned instead.
   */
  resolve(key: string, load: () => Promise<DnsAnswer>): Promise<DnsAnswer>
  delete(key: string): void
  clear(): void
  readonly size: number
}

/**
 * What an entry keeps, made small: a gateway holds one per device (bench:fleet). The reason line ("NAME TLSA
 * signed by ZONE (algorithm 13, key 12345)") is kept as the answer's own name joined to a tail shared by every
 * name of the zone (V8 joins two strings without copying them); each record's owner name, decoded separately
 * from the query name it equals, becomes that same string.
 */
function compactor(): (a: DnsAnswer, ttl: number) => DnsAnswer {
  const tails = new Lru<string, string>(256)
  const shared = (tail: string): string => {
    const hit = tails.get(tail)
    if (hit !== undefined) return hit
    const flat = Buffer.from(tail).toString() // its own flat copy, not a piece of the concatenation it came from
    tails.set(flat, flat)
    return flat
  }
  return (a, ttl) => {
    const reason = a.reason.startsWith(a.name) ? a.name + shared(a.reason.slice(a.name.length)) : Buffer.from(a.reason).toString()
    const owner = (r: Rr): Rr => ({ name: r.name === a.name ? a.name : r.name, type: r.type, class: r.class, ttl: r.ttl, rdata: r.rdata })
    return { ...a, ttl, reason, rrset: a.rrset.map(owner), cnames: a.cnames.length === 0 ? NONE : a.cnames }
  }
}
const NONE: readonly Rr[] = Object.freeze([])

export function createCache(opts: CacheOptions): DnsCache {
  const max = opts.maxEntries ?? 4096
  const minTtl = opts.minTtl ?? 0
  const maxTtl = opts.maxTtl ?? 86400
  const maxNeg = opts.maxNegativeTtl ?? 3600
  const maxStale = opts.maxStale ?? 86400
  const entries = new Lru<string, Entry>(max)
  const inflight = new SingleFlight<string, DnsAnswer>()
  const compact = compactor()
  const now = (): number => opts.clock.now()

  const store = (key: string, a: DnsAnswer): DnsAnswer => {
    // Bogus and indeterminate answers are not kept: the next query asks again (the problem may be transient).
    if (a.status === 'bogus' || a.status === 'indeterminate') return a
    const ttl = Math.max(minTtl, Math.min(a.ttl, a.negative === undefined ? maxTtl : maxNeg))
    if (ttl <= 0) return a
    entries.set(key, { answer: compact(a, ttl), expiresAt: now() + ttl * 1000 })
    return { ...a, ttl }
  }

  return {
    resolve(key, load) {
      const e = entries.peek(key)
      const t = now()
      if (e !== undefined && e.expiresAt > t) {
        entries.get(key) // a fresh hit becomes the most recently used
        return Promise.resolve({ ...e.answer, ttl: Math.ceil((e.expiresAt - t) / 1000), source: 'cache' })
      }
      return inflight.run(key, () =>
        load().then(
          (a) => store(key, a),
          (err: unknown) => {
            const old = entries.peek(key)
            // no usable reply from any server: silence, SERVFAIL/REFUSED, or replies we could not decode (RFC 8767 §4)
            const transient =
              isDaneelError(err, 'ERR_DNS_TIMEOUT') || isDaneelError(err, 'ERR_DNS_SERVFAIL') || isDaneelError(err, 'ERR_DNS_FORMAT')
            if (old !== undefined && transient && old.expiresAt + maxStale * 1000 > now()) {
              return {
                ...old.answer,
                ttl: STALE_TTL,
                source: 'stale' as const,
                reason: `${old.answer.reason} (stale: ${(err as DaneelError).message})`,
              }
            }
            if (old !== undefined && old.expiresAt + maxStale * 1000 <= now()) entries.delete(key)
            throw err
          },
        ),
      )
    },
    delete: (key) => {
      entries.delete(key)
    },
    clear: () => entries.clear(),
    get size() {
      return entries.size
    },
  }
}
