/** `daneel identity tlsa`: the TLSA record to publish for this identity (or --cert FILE), in the form asked for. */
import { requireDaneId, resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS } from '../../../settings/settings.js'
import { matchTlsa } from '../../../src/dane/match.js'
import {
  DEFAULT_TLSA_TTL,
  describeTlsa,
  formatTlsaRdata,
  formatTlsaZoneLine,
  isTlsaMatchingType,
  isTlsaSelector,
  isTlsaUsage,
  MATCHING_NAMES,
  makeTlsaRecord,
  parseTlsaRdata,
  SELECTOR_NAMES,
  USAGE_NAMES,
} from '../../../src/dane/tlsa.js'
import type { TlsaRecord } from '../../../src/dane/types.js'
import { DaneelError } from '../../../src/errors.js'
import { defaultTlsaParams } from '../../../src/identity/present.js'
import { loadIdentity } from '../../../src/identity/store.js'
import { MAX_PEM_FILE_BYTES, readFileBounded } from '../../../src/read-file.js'
import { type Certificate, parseCertificate } from '../../../src/x509/cert.js'
import { toHex } from '../../../src/x509/hex.js'
import { pemDecode } from '../../../src/x509/pem.js'
import { parseCommand, usageError } from '../../args.js'

export const summary = 'print the TLSA record to publish (zone-file line, --rdata, --json)'

const HELP = `Usage: daneel identity tlsa [--usage U] [--selector S] [--matching M] [--ttl N] [--rdata | --json] [--cert FILE]
       daneel identity tlsa --verify "U S M HEX" [--verify ...] [--json] [--cert FILE]

Prints the TLSA record of the identity's certificate as a zone-file line:
  NAME. 300 IN TLSA 3 0 0 HEX
Default 3 0 0 (DANE-EE, full certificate: peers fetch the key from DNS); 4 0 0 with NO_DNSSEC (PKIX-CD).

  --usage U      0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE, 4 PKIX-CD (number or RFC 7218 name)
  --selector S   0 Cert (full certificate), 1 SPKI (public key only)
  --matching M   0 Full, 1 SHA2-256, 2 SHA2-512
  --ttl N        TTL of the zone-file line (default 300, as every command prints: short, for rollovers)
  --rdata        print only "U S M HEX" (what dig shows, what openssl -dane_tlsa_rrdata takes)
  --json         print one JSON object
  --cert FILE    use this certificate (PEM or DER) instead of the identity's
  --verify RDATA does this RRset (records as dig prints them, one flag each) match the certificate?
                 Whole-RRset matching as a peer does it (DANE-EE ignores dates). Exit 0 match, 1 no match.

${SETTINGS_HELP}`

const OPTIONS = {
  ...SETTINGS_OPTIONS,
  usage: { type: 'string' },
  selector: { type: 'string' },
  matching: { type: 'string' },
  ttl: { type: 'string' },
  rdata: { type: 'boolean' },
  verify: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  cert: { type: 'string' },
} as const

function field(
  raw: string | undefined,
  fallback: number,
  names: Readonly<Record<number, string>>,
  flag: string,
  ok: (n: number) => boolean,
): number {
  if (raw === undefined) return fallback
  let n = /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN
  for (const [k, v] of Object.entries(names)) if (v.toLowerCase() === raw.toLowerCase()) n = Number(k)
  if (Number.isNaN(n)) throw new DaneelError('ERR_USAGE', `${flag} '${raw}' is not a number or a known name`)
  if (!ok(n))
    throw new DaneelError(
      'ERR_TLSA_UNSUPPORTED',
      `unknown TLSA ${flag.slice(2)} ${n} (known: ${Object.entries(names)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
    )
  return n
}

function readCertFile(path: string): Certificate {
  const buf = readFileBounded(path, { maxBytes: MAX_PEM_FILE_BYTES, what: 'certificate' })
  const text = buf.toString('latin1')
  return parseCertificate(text.includes('-----BEGIN') ? (pemDecode(text, 'CERTIFICATE')[0] as Uint8Array) : new Uint8Array(buf))
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(argv, OPTIONS, HELP)
  if (args === undefined) return 0
  if (args.positionals.length > 0) throw usageError(HELP, `unexpected argument '${args.positionals[0]}'`)
  if (args.values.rdata === true && args.values.json === true) throw new DaneelError('ERR_USAGE', '--rdata and --json exclude each other')
  const settings = resolveSettings(args.values, process.env)
  // records given to --verify are parsed first: bad input is exit 2 before anything is read from disk
  const rrset = args.values.verify?.map(parseTlsaRdata)
  if (rrset?.length === 0) throw new DaneelError('ERR_USAGE', '--verify needs a record')
  const d = defaultTlsaParams(settings.noDnssec)
  // flags are checked before any file is read, so a bad flag is a usage error whatever the disk holds
  const usage = field(args.values.usage, d.usage, USAGE_NAMES, '--usage', isTlsaUsage)
  const selector = field(args.values.selector, d.selector, SELECTOR_NAMES, '--selector', isTlsaSelector)
  const matching = field(args.values.matching, d.matchingType, MATCHING_NAMES, '--matching', isTlsaMatchingType)
  const ttlRaw = args.values.ttl ?? String(DEFAULT_TLSA_TTL)
  if (!/^\d{1,10}$/.test(ttlRaw) || Number(ttlRaw) > 2147483647)
    throw new DaneelError('ERR_USAGE', `--ttl must be 0-2147483647, not '${ttlRaw}'`)
  let name: string
  let cert: Certificate
  if (args.values.cert !== undefined) {
    cert = readCertFile(args.values.cert)
    name = settings.daneId ?? cert.dnsNames[0] ?? cert.subjectCN ?? 'unnamed'
  } else {
    const id = loadIdentity(settings.cryptoPath, requireDaneId(settings))
    if (id.cert === undefined)
      throw new DaneelError(
        'ERR_IDENTITY_MISSING',
        `identity ${id.name} has no certificate yet (install the CA-signed one: daneel identity install CERT)`,
      )
    name = id.name
    cert = id.cert
  }
  if (rrset !== undefined) return verify(rrset, cert, name, args.values.json === true)
  const rec = makeTlsaRecord(cert, usage as 0, selector as 0, matching as 0)
  if (args.values.rdata === true) process.stdout.write(`${formatTlsaRdata(rec)}\n`)
  else if (args.values.json === true) {
    process.stdout.write(
      `${JSON.stringify({ name, ttl: Number(ttlRaw), usage: rec.usage, selector: rec.selector, matchingType: rec.matchingType, data: toHex(rec.data), rdata: formatTlsaRdata(rec), zoneLine: formatTlsaZoneLine(name, rec, Number(ttlRaw)) })}\n`,
    )
  } else process.stdout.write(`${formatTlsaZoneLine(name, rec, Number(ttlRaw))}\n`)
  return 0
}

/** --verify: the RRset against the certificate, as a peer would match it (matchTlsa, usage 3 ignores dates). */
function verify(rrset: TlsaRecord[], cert: Certificate, name: string, json: boolean): number {
  const res = matchTlsa(rrset, [cert], { now: Date.now(), name })
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ name, match: res.ok, record: res.ok ? formatTlsaRdata(res.record) : null, usage: res.ok ? res.usage : null, reason: res.ok ? null : res.reason })}\n`,
    )
  } else if (res.ok) {
    process.stdout.write(
      `match: ${res.record.usage} ${res.record.selector} ${res.record.matchingType} (${describeTlsa(res.record)}) authenticates ${name}${res.usage === 4 ? ' (PKIX-CD: the CA chain is checked separately)' : ''}\n`,
    )
  } else {
    process.stdout.write(`no match: ${res.reason} (${rrset.length} record${rrset.length === 1 ? '' : 's'} checked)\n`)
  }
  return res.ok ? 0 : 1
}
