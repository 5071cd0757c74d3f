/** Offline sender resolution: certificates given on the command line (`--cert`), matched to the signed x5u name. */
import { DaneelError } from '../errors.js'
import { parseCertificate } from '../x509/cert.js'
import type { ResolvedSender } from './open.js'
import { normalizeName } from './x5u.js'

/**
 * A resolveSender over certificates the operator supplied: the sender named by the signed `x5u` must be a
 * dNSName of one of them (MISSION: the sender named by x5u must be the name in its certificate), else
 * ERR_JWS_SENDER. No dates are checked: these stand in for DANE-EE (usage 3) records, which ignore them
 * (RFC 7671 §5.1).
 */
export function certificateResolver(certsDer: readonly Uint8Array[]): { resolve: (name: string) => Promise<ResolvedSender>; names: string[] } {
  const byName = new Map<string, Uint8Array>()
  for (const der of certsDer) {
    const cert = parseCertificate(der)
    for (const n of cert.dnsNames) byName.set(normalizeName(n), cert.spkiDer)
  }
  return {
    names: [...byName.keys()],
    resolve: async (name) => {
      const spki = byName.get(name)
      if (spki === undefined) throw new DaneelError('ERR_JWS_SENDER', 'sender certificate does not match the signed name', { cause: new Error(`no certificate for ${name} (have ${[...byName.keys()].join(', ')})`) })
      return { spki, auth: 'offline' }
    },
  }
}
