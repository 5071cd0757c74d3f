/** Gathers what the monitor and `identity check` judge: validated TLSA answers, PKIX-CD outcomes, local identity, live chains. */
import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { bytesEqual } from '../../src/bytes.js'
import type { Clock } from '../../src/clock.js'
import type { TlsaSource } from '../../src/dane/discover.js'
import type { HostResolver } from '../../src/dane/https-fetch.js'
import type { PkixCd } from '../../src/dane/pkix-cd.js'
import { DaneelError, isDaneelError } from '../../src/errors.js'
import { type KeyPairFiles, readKeyPair } from '../../src/identity/pair.js'
import type { IdentityObservation, ServiceObservation, TlsaObservation } from '../../src/monitor/checks.js'
import { MAX_PEM_FILE_BYTES, readTextBounded } from '../../src/read-file.js'
import { parseCertificate } from '../../src/x509/cert.js'
import { pemDecode } from '../../src/x509/pem.js'
import { captureChain } from './capture.js'

export interface ObserveContext {
  resolver: TlsaSource
  /** Address lookup for service hosts (through our resolver). */
  resolveHost: HostResolver
  clock: Clock
  noDnssec: boolean
  pkixCd: PkixCd | undefined
  timeoutMs?: number
}

/** The validated TLSA RRset (NXDOMAIN and NODATA come back from the resolver as an empty RRset with their status). */
export async function observeTlsa(resolver: TlsaSource, name: string): Promise<TlsaObservation | Error> {
  try {
    const a = await resolver.lookupTlsa(name)
    return { status: a.status, reason: a.reason, records: [...a.records], ttl: a.ttl }
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err))
  }
}

export interface LocalIdentity {
  certDer: Uint8Array
  notAfter: number
  keyMatches: boolean
  aki: Uint8Array | undefined
  selfIssued: boolean
  ca: boolean
}

/** Reads `${dir}/${name}.crt.pem` and `.key.pem` (docs/contract.md "Files"); undefined when there is no certificate. */
export function readLocalIdentity(cryptoPath: string, name: string): LocalIdentity | undefined {
  const certPath = `${cryptoPath}/${name}.crt.pem`
  const keyPath = `${cryptoPath}/${name}.key.pem`
  if (!existsSync(certPath)) return undefined
  // read as one pair (src/identity/pair.ts): a rotation in progress is not reported as a mismatch
  let pair: KeyPairFiles | undefined
  try {
    pair = readKeyPair(keyPath, certPath)
  } catch (err) {
    if (!isDaneelError(err, 'ERR_KEY_MISMATCH')) throw err
  }
  const keyMatches = pair?.chain !== undefined
  const cert =
    pair?.chain?.[0] ??
    parseCertificate(
      pemDecode(readTextBounded(certPath, { maxBytes: MAX_PEM_FILE_BYTES, what: 'certificate' }), 'CERTIFICATE')[0] as Uint8Array,
    )
  return {
    certDer: cert.der,
    notAfter: cert.notAfter,
    keyMatches,
    aki: cert.aki,
    selfIssued: bytesEqual(cert.subjectDer, cert.issuerDer),
    ca: cert.basicConstraints?.ca === true,
  }
}

/** PKIX-CD over every full-certificate record; true when one authenticates (the local one first, if given). */
async function pkixCdOutcome(ctx: ObserveContext, name: string, t: TlsaObservation, local?: Uint8Array): Promise<true | Error> {
  if (ctx.pkixCd === undefined) return new DaneelError('ERR_PKIXCD_FETCH', 'PKIX-CD needed but no CA fetcher')
  const certs = t.records.filter((r) => (r.usage === 4 || r.usage === 3) && r.selector === 0 && r.matchingType === 0).map((r) => r.data)
  if (local !== undefined) certs.sort((a, b) => Number(bytesEqual(b, local)) - Number(bytesEqual(a, local)))
  if (certs.length === 0) return new DaneelError('ERR_TLSA_UNSUPPORTED', 'PKIX-CD needs a 4 0 0 or 3 0 0 record (the full certificate)')
  let first: Error | undefined
  for (const der of certs) {
    try {
      await ctx.pkixCd.authenticate(name, der)
      return true
    } catch (err) {
      first ??= err as Error
    }
  }
  return first ?? new Error('PKIX-CD failed')
}

export async function observeIdentity(ctx: ObserveContext, name: string, local: LocalIdentity | undefined): Promise<IdentityObservation> {
  const tlsa = await observeTlsa(ctx.resolver, name)
  const obs: IdentityObservation = { name, tlsa, noDnssec: ctx.noDnssec }
  if (local !== undefined) obs.local = { certDer: local.certDer, notAfter: local.notAfter, keyMatches: local.keyMatches }
  if (!(tlsa instanceof Error) && tlsa.records.length > 0 && (ctx.noDnssec || tlsa.status === 'insecure')) {
    obs.pkixCd = await pkixCdOutcome(ctx, name, tlsa, local?.certDer)
  }
  return obs
}

/** Splits `HOST:PORT` (IPv6 as `[addr]:port`). */
export function parseHostPort(spec: string, flag: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(spec) ?? /^([^:]+):(\d+)$/.exec(spec)
  const port = Number(m?.[2])
  if (m?.[1] === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DaneelError('ERR_USAGE', `${flag} takes HOST:PORT, not '${spec}'`)
  }
  return { host: m[1].toLowerCase().replace(/\.$/, ''), port }
}

/** `_PORT._tcp.HOST` (RFC 6698 §3), connect to HOST's address, take the chain (STARTTLS for SMTP, RFC 7672). */
export async function observeService(ctx: ObserveContext, kind: 'tls' | 'smtp', host: string, port: number): Promise<ServiceObservation> {
  const tlsaName = `_${port}._tcp.${host}`
  const tlsa = await observeTlsa(ctx.resolver, tlsaName)
  let chain: Uint8Array[] | Error
  let leafNotAfter: number | undefined
  try {
    let address = host
    if (isIP(host) === 0) {
      const addrs = await ctx.resolveHost(host)
      if (addrs[0] === undefined) throw new DaneelError('ERR_MONITOR', `no address for ${host}`)
      address = addrs[0].address
    }
    chain = await captureChain({
      address,
      port,
      servername: host,
      smtp: kind === 'smtp',
      ...(ctx.timeoutMs === undefined ? {} : { timeoutMs: ctx.timeoutMs }),
    })
    try {
      leafNotAfter = parseCertificate(chain[0] as Uint8Array).notAfter
    } catch {
      leafNotAfter = undefined
    }
  } catch (err) {
    chain = err instanceof Error ? err : new Error(String(err))
  }
  const obs: ServiceObservation = { kind, target: `${host}:${port}`, host, tlsaName, tlsa, chain }
  if (leafNotAfter !== undefined) obs.leafNotAfter = leafNotAfter
  return obs
}
