/** DNS type, flag and RCODE numbers (RFC 1035 §3.2.2, §4.1.1; IANA DNS parameters) and the EDNS0 buffer size we advertise. */
import { DaneelError } from '../errors.js'

export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  CDS: 59,
  CDNSKEY: 60,
  SVCB: 64,
  HTTPS: 65,
  CAA: 257,
  ANY: 255,
} as const
const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([k, v]) => [v, k]))

/** "TLSA" → 52, "TYPE52" → 52; ERR_USAGE when unknown. */
export function typeFromString(s: string): number {
  const u = s.toUpperCase()
  const known = (TYPE as Record<string, number>)[u]
  if (known !== undefined) return known
  const m = /^TYPE(\d{1,5})$/.exec(u)
  if (m !== null && Number(m[1]) < 65536) return Number(m[1])
  throw new DaneelError('ERR_USAGE', `unknown record type '${s}'`)
}
export const typeToString = (t: number): string => TYPE_NAMES.get(t) ?? `TYPE${t}`

export const FLAG = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, AD: 0x0020, CD: 0x0010 } as const
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED']
export const rcodeToString = (r: number): string => RCODE_NAMES[r] ?? `RCODE${r}`

/** EDNS0 UDP payload size we advertise: DNS Flag Day 2020 (no fragmentation on common paths). */
export const EDNS_UDP_SIZE = 1232
