/** Host addresses through our own resolver (A, then AAAA), for the PKIX-CD HTTPS fetch and DANE service checks. */
import type { DnsAnswer } from '../dns/types.js'
import type { HostResolver } from './https-fetch.js'

/** What it needs from src/dns/resolver.ts `createResolver(...)`. */
export interface AddressSource {
  query(name: string, type: number): Promise<DnsAnswer>
}

const TYPE_A = 1
const TYPE_AAAA = 28

/**
 * A HostResolver over our resolver, never the system's getaddrinfo (issue 4 item 5). A bogus answer is skipped: a
 * forged address could only misdirect the connection (Web-PKI or DANE still guards the key), but it is not used.
 * `allowBogus` is for the monitor, which connects anyway to report whether the (untrusted) records would match.
 */
export function resolverHostLookup(resolver: AddressSource, opts: { allowBogus?: boolean } = {}): HostResolver {
  return async (host) => {
    const out: Array<{ address: string; family: 4 | 6 }> = []
    for (const [type, family] of [
      [TYPE_A, 4],
      [TYPE_AAAA, 6],
    ] as const) {
      let a: DnsAnswer
      try {
        a = await resolver.query(host, type)
      } catch {
        continue // no address of this family
      }
      if (a.status === 'bogus' && opts.allowBogus !== true) continue
      for (const rr of a.rrset) {
        const b = rr.rdata
        if (family === 4 && b.length === 4) out.push({ address: Array.from(b).join('.'), family })
        if (family === 6 && b.length === 16) {
          const words = Array.from({ length: 8 }, (_, i) => (((b[2 * i] as number) << 8) | (b[2 * i + 1] as number)).toString(16))
          out.push({ address: words.join(':'), family })
        }
      }
    }
    return out
  }
}
