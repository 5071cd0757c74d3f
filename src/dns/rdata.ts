/** Typed views of the RDATA the resolver and validator read (RFC 4034 §2-4, RFC 5155 §3), and text for display (TLSA decoded by src/dane/tlsa.ts). */
import dnsPacket from 'dns-packet'
import { decodeTlsaRdata } from '../dane/tlsa.js'
import { DaneelError } from '../errors.js'
import type { Name } from './name.js'
import { type Rr, readName, TYPE, typeToString } from './wire.js'

const bad = (what: string): never => {
  throw new DaneelError('ERR_DNS_FORMAT', `malformed ${what} RDATA`)
}
const u16 = (b: Uint8Array, o: number): number => ((b[o] as number) << 8) | (b[o + 1] as number)
const u32 = (b: Uint8Array, o: number): number => (u16(b, o) * 65536 + u16(b, o + 2)) >>> 0

export interface Dnskey {
  flags: number
  protocol: number
  algorithm: number
  key: Uint8Array
}
export function parseDnskey(rd: Uint8Array): Dnskey {
  if (rd.length < 5) bad('DNSKEY')
  return { flags: u16(rd, 0), protocol: rd[2] as number, algorithm: rd[3] as number, key: rd.subarray(4) }
}

export interface Ds {
  keyTag: number
  algorithm: number
  digestType: number
  digest: Uint8Array
}
export function parseDs(rd: Uint8Array): Ds {
  if (rd.length < 5) bad('DS')
  return { keyTag: u16(rd, 0), algorithm: rd[2] as number, digestType: rd[3] as number, digest: rd.subarray(4) }
}

export interface Rrsig {
  typeCovered: number
  algorithm: number
  /** Labels of the owner, not counting the root or a leading "*" (RFC 4034 §3.1.3). */
  labels: number
  originalTtl: number
  /** Seconds since the epoch as 32-bit serial numbers (RFC 4034 §3.1.5, compared with RFC 1982 arithmetic). */
  expiration: number
  inception: number
  keyTag: number
  signer: Name
  signature: Uint8Array
  /** RDATA up to and including the signer name: the head of the signed data (RFC 4034 §3.1.8.1). */
  head: Uint8Array
}
export function parseRrsig(rd: Uint8Array): Rrsig {
  if (rd.length < 19) bad('RRSIG')
  const n = readName(rd, 18, { compression: false })
  if (n.end >= rd.length) bad('RRSIG')
  return {
    typeCovered: u16(rd, 0),
    algorithm: rd[2] as number,
    labels: rd[3] as number,
    originalTtl: u32(rd, 4),
    expiration: u32(rd, 8),
    inception: u32(rd, 12),
    keyTag: u16(rd, 16),
    signer: n.name,
    signature: rd.subarray(n.end),
    head: rd.subarray(0, n.end),
  }
}

/** RFC 4034 §4.1.2 type bit maps. */
export function parseTypeBitmap(rd: Uint8Array, off: number, what: string): Set<number> {
  const types = new Set<number>()
  let pos = off
  while (pos < rd.length) {
    if (pos + 2 > rd.length) bad(what)
    const win = rd[pos] as number
    const len = rd[pos + 1] as number
    if (len < 1 || len > 32 || pos + 2 + len > rd.length) bad(what)
    for (let i = 0; i < len; i++) {
      const byte = rd[pos + 2 + i] as number
      for (let bit = 0; bit < 8; bit++) if (byte & (0x80 >> bit)) types.add(win * 256 + i * 8 + bit)
    }
    pos += 2 + len
  }
  return types
}

export interface Nsec {
  next: Name
  types: Set<number>
}
export function parseNsec(rd: Uint8Array): Nsec {
  const n = readName(rd, 0, { compression: false })
  return { next: n.name, types: parseTypeBitmap(rd, n.end, 'NSEC') }
}

export interface Nsec3 {
  hashAlgorithm: number
  flags: number
  iterations: number
  salt: Uint8Array
  nextHashed: Uint8Array
  types: Set<number>
}
export function parseNsec3(rd: Uint8Array): Nsec3 {
  if (rd.length < 6) bad('NSEC3')
  const saltLen = rd[4] as number
  const hashLenAt = 5 + saltLen
  if (hashLenAt >= rd.length) bad('NSEC3')
  const hashLen = rd[hashLenAt] as number
  if (hashLen < 1 || hashLenAt + 1 + hashLen > rd.length) bad('NSEC3')
  return {
    hashAlgorithm: rd[0] as number,
    flags: rd[1] as number,
    iterations: u16(rd, 2),
    salt: rd.subarray(5, hashLenAt),
    nextHashed: rd.subarray(hashLenAt + 1, hashLenAt + 1 + hashLen),
    types: parseTypeBitmap(rd, hashLenAt + 1 + hashLen, 'NSEC3'),
  }
}

/** The target of a CNAME or DNAME. */
export const parseTarget = (rd: Uint8Array): Name => readName(rd, 0, { compression: false }).name

/** SOA MINIMUM (RFC 2308 §4: the negative TTL is min(SOA TTL, MINIMUM)). */
export function soaMinimum(rd: Uint8Array): number {
  const a = readName(rd, 0, { compression: false })
  const b = readName(rd, a.end, { compression: false })
  if (b.end + 20 > rd.length) bad('SOA')
  return u32(rd, b.end + 16)
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64')
const b32hex = (b: Uint8Array): string => {
  const alpha = '0123456789abcdefghijklmnopqrstuv'
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of b) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += alpha[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += alpha[(value << (5 - bits)) & 31]
  return out
}

export { b32hex }

const typesText = (t: Set<number>): string =>
  [...t]
    .sort((a, b) => a - b)
    .map(typeToString)
    .join(' ')
const time = (s: number): string => new Date(s * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14)

/** RDATA in presentation form (RFC 1035 §5 style), for `daneel lookup` and logs; unknown types as RFC 3597 \# form. */
export function rdataToText(rr: Rr): string {
  const rd = rr.rdata
  try {
    switch (rr.type) {
      case TYPE.TLSA: {
        const t = decodeTlsaRdata(rd)
        return `${t.usage} ${t.selector} ${t.matchingType} ${hex(t.data)}`
      }
      case TYPE.DNSKEY: {
        const k = parseDnskey(rd)
        return `${k.flags} ${k.protocol} ${k.algorithm} ${b64(k.key)}`
      }
      case TYPE.DS: {
        const d = parseDs(rd)
        return `${d.keyTag} ${d.algorithm} ${d.digestType} ${hex(d.digest).toUpperCase()}`
      }
      case TYPE.RRSIG: {
        const s = parseRrsig(rd)
        return `${typeToString(s.typeCovered)} ${s.algorithm} ${s.labels} ${s.originalTtl} ${time(s.expiration)} ${time(s.inception)} ${s.keyTag} ${s.signer} ${b64(s.signature)}`
      }
      case TYPE.NSEC: {
        const n = parseNsec(rd)
        return `${n.next} ${typesText(n.types)}`
      }
      case TYPE.NSEC3: {
        const n = parseNsec3(rd)
        return `${n.hashAlgorithm} ${n.flags} ${n.iterations} ${n.salt.length === 0 ? '-' : hex(n.salt)} ${b32hex(n.nextHashed)} ${typesText(n.types)}`
      }
      case TYPE.CNAME:
      case TYPE.DNAME:
      case TYPE.NS:
      case TYPE.PTR:
        return parseTarget(rd)
      default: {
        // dns-packet's decoders for the everyday types (A, AAAA, TXT, MX, SOA, SRV, CAA, ...).
        const name = typeToString(rr.type).toLowerCase() as keyof typeof dnsPacket
        const codec = (dnsPacket as unknown as Record<string, { decode?: (b: Buffer, o: number) => unknown }>)[name]
        if (codec?.decode !== undefined && !/^type\d/.test(name)) {
          const framed = Buffer.alloc(rd.length + 2)
          framed.writeUInt16BE(rd.length, 0)
          framed.set(rd, 2)
          const v = codec.decode(framed, 0)
          if (typeof v === 'string') return v
          if (Array.isArray(v)) return v.map((x) => JSON.stringify(Buffer.isBuffer(x) ? x.toString() : x)).join(' ')
          if (v !== null && typeof v === 'object')
            return Object.values(v)
              .map((x) => String(Buffer.isBuffer(x) ? hex(x) : x))
              .join(' ')
        }
        return `\\# ${rd.length} ${hex(rd)}`
      }
    }
  } catch {
    return `\\# ${rd.length} ${hex(rd)}`
  }
}
