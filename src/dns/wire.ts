/** DNS messages (RFC 1035 §4, RFC 6891 EDNS0): query encoding and a strict, bounds-checked decoder that keeps RDATA in canonical form. */
import { randomInt } from 'node:crypto'
import { DaneelError } from '../errors.js'
import { type Name, nameFromLabels, nameToWire } from './name.js'

/*
 * Wire rules kept here:
 * - Every read is bounds-checked; a malformed message is ERR_DNS_FORMAT, never an exception of another kind.
 * - Compression pointers must point strictly backwards (so no loops), at most 128 hops per name.
 * - RDATA is stored uncompressed, with the embedded names of RFC 4034 §6.2 types lower-cased, i.e. already
 *   in canonical form for RRSIG verification. NSEC's next name keeps its case (RFC 6840 §5.1).
 *   dns-packet is not used for this: it decodes names to dotted strings, losing "." and binary bytes in labels.
 */

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

export interface Question {
  name: Name
  type: number
  class: number
}

export interface Rr {
  name: Name
  type: number
  class: number
  ttl: number
  /** Uncompressed RDATA in RFC 4034 §6.2 canonical form. */
  rdata: Uint8Array
}

export interface Message {
  id: number
  flags: number
  /** Full RCODE (with the EDNS extended bits). */
  rcode: number
  questions: Question[]
  answers: Rr[]
  authorities: Rr[]
  additionals: Rr[]
  edns?: { udpSize: number; dnssecOk: boolean }
}

/** A query with EDNS0 (1232-byte buffer), DO set, and RD (for recursive servers); CD when we validate ourselves. */
export function encodeQuery(q: { id?: number; name: Name; type: number; cd?: boolean; rd?: boolean }): { id: number; bytes: Uint8Array } {
  const id = q.id ?? randomInt(0, 65536)
  const qname = nameToWire(q.name)
  const out = new Uint8Array(12 + qname.length + 4 + 11)
  const dv = new DataView(out.buffer)
  dv.setUint16(0, id)
  dv.setUint16(2, (q.rd === false ? 0 : FLAG.RD) | (q.cd === true ? FLAG.CD : 0))
  dv.setUint16(4, 1) // QDCOUNT
  dv.setUint16(10, 1) // ARCOUNT: the OPT record
  out.set(qname, 12)
  let o = 12 + qname.length
  dv.setUint16(o, q.type)
  dv.setUint16(o + 2, 1) // IN
  o += 4
  // OPT: root owner, type 41, class = UDP size, TTL = ext-rcode/version/DO flag, RDLEN 0
  out[o] = 0
  dv.setUint16(o + 1, TYPE.OPT)
  dv.setUint16(o + 3, EDNS_UDP_SIZE)
  dv.setUint32(o + 5, 0x8000)
  dv.setUint16(o + 9, 0)
  return { id, bytes: out }
}

const fail = (why: string): never => {
  throw new DaneelError('ERR_DNS_FORMAT', `malformed DNS message: ${why}`)
}

/** Reads a (possibly compressed) name at `off`; returns it and the offset after it in the original stream. */
export function readName(
  buf: Uint8Array,
  off: number,
  opts: { compression?: boolean; keepCase?: boolean } = {},
): { name: Name; labels: Uint8Array[]; end: number } {
  const labels: Uint8Array[] = []
  let pos = off
  let end = -1
  let hops = 0
  let total = 1
  for (;;) {
    if (pos >= buf.length) fail('name runs past the end')
    const len = buf[pos] as number
    if (len === 0) {
      if (end < 0) end = pos + 1
      break
    }
    if ((len & 0xc0) === 0xc0) {
      if (opts.compression === false) fail('compression pointer where none is allowed')
      if (pos + 1 >= buf.length) fail('truncated pointer')
      const target = ((len & 0x3f) << 8) | (buf[pos + 1] as number)
      if (end < 0) end = pos + 2
      if (target >= pos || ++hops > 128) fail('compression pointer loop')
      pos = target
      continue
    }
    if ((len & 0xc0) !== 0) fail('bad label type')
    if (pos + 1 + len > buf.length) fail('label runs past the end')
    total += len + 1
    if (total > 255) fail('name longer than 255 bytes')
    const raw = buf.subarray(pos + 1, pos + 1 + len)
    labels.push(opts.keepCase === true ? raw : raw.map((b) => (b >= 0x41 && b <= 0x5a ? b + 32 : b)))
    pos += 1 + len
  }
  return { name: nameFromLabels(labels), labels, end }
}

function labelsToWire(labels: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(labels.reduce((n, l) => n + l.length + 1, 1))
  let o = 0
  for (const l of labels) {
    out[o++] = l.length
    out.set(l, o)
    o += l.length
  }
  return out
}

/** Where names sit in RDATA: 'n' a name (lower-cased), 'N' a name kept as sent, a number fixed bytes, 's' a character-string. */
type Field = 'n' | 'N' | 's' | number
const ONE: Field[] = ['n']
const LAYOUT = new Map<number, Field[]>([
  [2, ONE],
  [3, ONE],
  [4, ONE],
  [5, ONE],
  [7, ONE],
  [8, ONE],
  [9, ONE],
  [12, ONE],
  [39, ONE],
  [6, ['n', 'n', 20]],
  [14, ['n', 'n']],
  [17, ['n', 'n']],
  [15, [2, 'n']],
  [18, [2, 'n']],
  [21, [2, 'n']],
  [36, [2, 'n']],
  [26, [2, 'n', 'n']],
  [33, [6, 'n']],
  [35, [4, 's', 's', 's', 'n']],
  [24, [18, 'n']],
  [46, [18, 'n']],
  [47, ['N']],
])

function canonicalRdata(buf: Uint8Array, off: number, len: number, type: number): Uint8Array {
  const layout = LAYOUT.get(type)
  const end = off + len
  if (layout === undefined) return buf.slice(off, end)
  const parts: Uint8Array[] = []
  let pos = off
  for (const f of layout) {
    if (typeof f === 'number') {
      if (pos + f > end) fail(`short RDATA for type ${type}`)
      parts.push(buf.subarray(pos, pos + f))
      pos += f
    } else if (f === 's') {
      const n = buf[pos]
      if (n === undefined || pos + 1 + n > end) fail('short character-string')
      parts.push(buf.subarray(pos, pos + 1 + (n as number)))
      pos += 1 + (n as number)
    } else {
      const r = readName(buf, pos, { keepCase: f === 'N', compression: f !== 'N' })
      if (r.end > end) fail('RDATA name runs past RDLENGTH')
      parts.push(labelsToWire(r.labels))
      pos = r.end
    }
  }
  if (pos > end) fail('RDATA overrun')
  parts.push(buf.subarray(pos, end))
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Decodes a DNS message; throws ERR_DNS_FORMAT on anything malformed (garbage never crashes the caller). */
export function decodeMessage(bytes: Uint8Array): Message {
  const buf = bytes
  if (buf.length < 12) fail('shorter than a header')
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const counts = [dv.getUint16(4), dv.getUint16(6), dv.getUint16(8), dv.getUint16(10)] as const
  let pos = 12
  const questions: Question[] = []
  for (let i = 0; i < counts[0]; i++) {
    const r = readName(buf, pos)
    if (r.end + 4 > buf.length) fail('truncated question')
    questions.push({ name: r.name, type: dv.getUint16(r.end), class: dv.getUint16(r.end + 2) })
    pos = r.end + 4
  }
  const sections: Rr[][] = [[], [], []]
  let edns: Message['edns']
  let extRcode = 0
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < (counts[s + 1] as number); i++) {
      const r = readName(buf, pos)
      if (r.end + 10 > buf.length) fail('truncated RR header')
      const type = dv.getUint16(r.end)
      const klass = dv.getUint16(r.end + 2)
      const ttl = dv.getUint32(r.end + 4)
      const rdlen = dv.getUint16(r.end + 8)
      const rdOff = r.end + 10
      if (rdOff + rdlen > buf.length) fail('RDATA runs past the end')
      if (type === TYPE.OPT) {
        if (s !== 2 || edns !== undefined) fail('misplaced or repeated OPT')
        edns = { udpSize: klass, dnssecOk: (ttl & 0x8000) !== 0 }
        extRcode = ttl >>> 24
      } else {
        ;(sections[s] as Rr[]).push({
          name: r.name,
          type,
          class: klass,
          ttl: ttl > 0x7fffffff ? 0 : ttl,
          rdata: canonicalRdata(buf, rdOff, rdlen, type),
        })
      }
      pos = rdOff + rdlen
    }
  }
  const flags = dv.getUint16(2)
  const msg: Message = {
    id: dv.getUint16(0),
    flags,
    rcode: (extRcode << 4) | (flags & 0xf),
    questions,
    answers: sections[0] as Rr[],
    authorities: sections[1] as Rr[],
    additionals: sections[2] as Rr[],
  }
  if (edns !== undefined) msg.edns = edns
  return msg
}

/**
 * Encodes a message without name compression (valid per RFC 1035 §4.1.4, which makes compression optional);
 * used by tests and in-process servers. RDATA is written as stored (canonical, uncompressed).
 */
export function encodeMessage(m: Message): Uint8Array {
  const parts: Uint8Array[] = []
  const header = new Uint8Array(12)
  const hv = new DataView(header.buffer)
  hv.setUint16(0, m.id)
  hv.setUint16(2, (m.flags & 0xfff0) | (m.rcode & 0xf))
  hv.setUint16(4, m.questions.length)
  hv.setUint16(6, m.answers.length)
  hv.setUint16(8, m.authorities.length)
  hv.setUint16(10, m.additionals.length + (m.edns === undefined ? 0 : 1))
  parts.push(header)
  for (const q of m.questions) {
    const tail = new Uint8Array(4)
    new DataView(tail.buffer).setUint16(0, q.type)
    new DataView(tail.buffer).setUint16(2, q.class)
    parts.push(nameToWire(q.name), tail)
  }
  for (const rr of [...m.answers, ...m.authorities, ...m.additionals]) {
    const fixed = new Uint8Array(10)
    const dv = new DataView(fixed.buffer)
    dv.setUint16(0, rr.type)
    dv.setUint16(2, rr.class)
    dv.setUint32(4, rr.ttl >>> 0)
    dv.setUint16(8, rr.rdata.length)
    parts.push(nameToWire(rr.name), fixed, rr.rdata)
  }
  if (m.edns !== undefined) {
    const opt = new Uint8Array(11)
    const dv = new DataView(opt.buffer)
    dv.setUint16(1, TYPE.OPT)
    dv.setUint16(3, m.edns.udpSize)
    dv.setUint32(5, ((m.rcode >> 4) << 24) | (m.edns.dnssecOk ? 0x8000 : 0))
    parts.push(opt)
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
