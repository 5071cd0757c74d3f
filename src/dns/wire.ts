/** DNS messages (RFC 1035 §4, RFC 6891 EDNS0): a strict, bounds-checked decoder that keeps RDATA in canonical form; re-exports the encoders. */
import { concatBytes } from '../bytes.js'
import { DaneelError } from '../errors.js'
import { TYPE } from './constants.js'
import { labelsToWire, type Name, nameFromLabels } from './name.js'

/*
 * Wire rules kept here:
 * - Every read is bounds-checked; a malformed message is ERR_DNS_FORMAT, never an exception of another kind.
 * - Compression pointers must point strictly backwards (so no loops), at most 128 hops per name.
 * - RDATA is stored uncompressed, with the embedded names of RFC 4034 §6.2 types lower-cased, i.e. already
 *   in canonical form for RRSIG verification. NSEC's next name keeps its case (RFC 6840 §5.1).
 *   dns-packet is not used for this: it decodes names to dotted strings, losing "." and binary bytes in labels.
 */

export * from './constants.js'
export { encodeMessage, encodeQuery } from './encode.js'

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
  return concatBytes(...parts)
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
