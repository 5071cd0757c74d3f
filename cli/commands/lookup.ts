/** `daneel lookup NAME`: the TLSA (or any) RRset of a name, each record parsed, its DNSSEC status and why; like dig, but validated. */
import { X509Certificate } from 'node:crypto'
import { createPeerTrust } from '../../settings/peers.js'
import { resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS } from '../../settings/settings.js'
import { systemClock } from '../../src/clock.js'
import { decodeTlsaRdata, MATCHING_NAMES, SELECTOR_NAMES, USAGE_NAMES } from '../../src/dane/tlsa.js'
import { toName } from '../../src/dns/name.js'
import { rdataToText } from '../../src/dns/rdata.js'
import type { DnsAnswer } from '../../src/dns/types.js'
import { type Rr, rcodeToString, TYPE, typeFromString, typeToString } from '../../src/dns/wire.js'
import { DaneelError } from '../../src/errors.js'
import { parseCommand, usageError } from '../args.js'

export const summary = 'the validated TLSA RRset of a name (secure, insecure, bogus, indeterminate)'

const HELP = `Usage: daneel lookup NAME [--type TYPE] [--dns HOST:PORT] [--trust-anchors FILE] [--json]

Looks NAME up (TLSA unless --type), validates the answer with DNSSEC from the trust anchors and prints the
RRset, each record parsed, the status (secure, insecure, bogus, indeterminate) and why.
When the zone is provably insecure (or NO_DNSSEC is set), TLSA certificates are checked by PKIX-CD.
Exit 0 when records were found and can be trusted (secure, or authenticated by PKIX-CD); 1 otherwise
(bogus, indeterminate, insecure without PKIX-CD, or no records, even when their absence is proven); 2 on bad input.

  --type TYPE   record type (default TLSA), e.g. A, AAAA, TXT, DNSKEY, DS
  --json        one JSON object
  --timeout SECONDS  per-attempt timeout in seconds like every other duration (default 2; fractions allowed;
                     a value ending in ms, e.g. 500ms, is milliseconds, for scripts written for the old unit)

DNSSEC=resolver (--dnssec resolver) trusts the AD bit of a resolver on loopback instead of validating here:
weaker (the resolver and the path to it must be trusted), and refused for any non-loopback server.

${SETTINGS_HELP}`

const OPTIONS = { ...SETTINGS_OPTIONS, type: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' } } as const

/** One record as data: its text, and for TLSA the fields named (RFC 7218) and a certificate summarised. */
function describe(rr: Rr): Record<string, unknown> {
  const out: Record<string, unknown> = { name: rr.name, type: typeToString(rr.type), ttl: rr.ttl, data: rdataToText(rr) }
  if (rr.type !== TYPE.TLSA) return out
  try {
    const t = decodeTlsaRdata(rr.rdata)
    out.usage = `${t.usage} ${USAGE_NAMES[t.usage]}`
    out.selector = `${t.selector} ${SELECTOR_NAMES[t.selector]}`
    out.matchingType = `${t.matchingType} ${MATCHING_NAMES[t.matchingType]}`
    if (t.selector === 0 && t.matchingType === 0) {
      const x = new X509Certificate(t.data)
      out.certificate = {
        subject: x.subject,
        issuer: x.issuer,
        subjectAltName: x.subjectAltName ?? null,
        validFrom: x.validFrom,
        validTo: x.validTo,
        keyType: x.publicKey.asymmetricKeyType,
      }
    }
  } catch (err) {
    out.error = `unparsable: ${(err as Error).message}`
  }
  return out
}

/** `--timeout`: seconds (`2`, `0.5`), or milliseconds with an `ms` suffix (`500ms`); 1 ms to 60 s. */
export function timeoutOf(raw: string | undefined): number {
  if (raw === undefined) return 2000
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(raw.trim())
  const ms = m === null ? Number.NaN : Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : 1000))
  if (!(ms >= 1 && ms <= 60_000)) throw new DaneelError('ERR_USAGE', `--timeout takes seconds from 0.001 to 60 (or NNNms), not '${raw}'`)
  return ms
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, HELP)
  if (parsed === undefined) return 0
  const v = parsed.values
  if (parsed.positionals.length !== 1) throw usageError(HELP, `give exactly one NAME`)
  const name = toName(parsed.positionals[0] as string)
  const type = typeFromString(v.type ?? 'TLSA')
  const timeoutMs = timeoutOf(v.timeout)
  const settings = resolveSettings(v, process.env)
  const clock = systemClock
  const trust = createPeerTrust(settings, { clock, timeoutMs })
  const resolver = trust.resolver
  const answer: DnsAnswer = await resolver.query(name, type)
  // A proven NXDOMAIN/NODATA is a trustworthy answer, but nothing to use: exit 1 (scripts ask "is there a trusted RRset?").
  let trusted = answer.status === 'secure' && !settings.noDnssec && answer.rrset.length > 0
  let pkixCd: Record<string, unknown> | undefined
  // PKIX-CD only for a provably insecure TLSA answer (or NO_DNSSEC); bogus and indeterminate fail closed.
  if (
    type === TYPE.TLSA &&
    answer.rrset.length > 0 &&
    (answer.status === 'insecure' || (settings.noDnssec && answer.status !== 'bogus' && answer.status !== 'indeterminate'))
  ) {
    try {
      const peer = await trust.directory.lookup(name)
      trusted = peer.auth === 'pkix-cd'
      pkixCd = { ok: trusted, auth: peer.auth }
    } catch (err) {
      trusted = false
      pkixCd = { ok: false, error: (err as Error).message }
    }
  }
  const records = answer.rrset.map(describe)
  const doc = {
    name,
    type: typeToString(type),
    status: answer.status,
    reason: answer.reason,
    trusted,
    rcode: rcodeToString(answer.rcode),
    negative: answer.negative ?? null,
    ttl: answer.ttl,
    server: answer.server ?? null,
    transport: answer.tcp === true ? 'tcp' : 'udp',
    source: answer.source,
    mode: settings.dnssecMode,
    cnames: answer.cnames.map(describe),
    records,
    ...(pkixCd === undefined ? {} : { pkixCd }),
  }
  if (v.json === true) {
    process.stdout.write(`${JSON.stringify(doc)}\n`)
  } else {
    const lines = [`${name} ${typeToString(type)}: ${answer.status}${trusted ? ' (trusted)' : ''}`, `  why: ${answer.reason}`]
    for (const c of answer.cnames) lines.push(`  ${c.name} CNAME ${rdataToText(c)}`)
    if (answer.negative !== undefined)
      lines.push(`  ${answer.negative === 'nxdomain' ? 'NXDOMAIN: the name does not exist' : 'NODATA: no records of this type'}`)
    for (const r of records) {
      lines.push(
        `  ${String(r.name)} ${String(r.ttl)} ${String(r.type)} ${String(r.data).length > 90 ? `${String(r.data).slice(0, 87)}...` : String(r.data)}`,
      )
      if (r.usage !== undefined)
        lines.push(`    usage ${String(r.usage)}, selector ${String(r.selector)}, matching ${String(r.matchingType)}`)
      const cert = r.certificate as { subject: string; subjectAltName: string | null; validTo: string } | undefined
      if (cert !== undefined)
        lines.push(`    certificate ${cert.subject.replace(/\n/g, ', ')}; ${cert.subjectAltName ?? 'no SAN'}; valid to ${cert.validTo}`)
      if (r.error !== undefined) lines.push(`    ${String(r.error)}`)
    }
    if (pkixCd !== undefined)
      lines.push(`  PKIX-CD: ${pkixCd.ok === true ? 'certificate chain authenticated' : `failed: ${String(pkixCd.error)}`}`)
    lines.push(
      `  via ${answer.server ?? '?'} (${answer.tcp === true ? 'tcp' : 'udp'}, ${answer.source}), ttl ${answer.ttl} s, mode ${settings.dnssecMode}`,
    )
    process.stdout.write(`${lines.join('\n')}\n`)
  }
  return trusted ? 0 : 1
}
