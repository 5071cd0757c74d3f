/** The monitor's ChainMatcher: src/dane/match.ts over DER chains, as a DANE client without a PKIX trust store. */
import { matchTlsa } from '../dane/match.js'
import { type Certificate, parseCertificate } from '../x509/cert.js'
import type { ChainMatcher } from './checks.js'

/**
 * Matches with DANE-EE name checks off (RFC 7671 §5.1) and PKIX usages untrusted (RFC 7672 §3.1.3), as
 * `openssl s_client -dane_tlsa_rrdata ... -dane_ee_no_namechecks` does without -CAfile. A chain whose leaf does not
 * parse matches nothing; unparsable certificates further up are dropped (they cannot be trust anchors anyway).
 */
export function createChainMatcher(now: () => number): ChainMatcher {
  return (records, chainDer, name) => {
    const chain: Certificate[] = []
    for (const [i, der] of chainDer.entries()) {
      try {
        chain.push(parseCertificate(der))
      } catch {
        if (i === 0) return { matched: false }
      }
    }
    const r = matchTlsa(records, chain, { now: now(), ...(name === undefined ? {} : { name }), pkixTrusted: false })
    return r.ok ? { matched: true, record: r.record, depth: r.depth } : { matched: false, depth: r.depth }
  }
}
