/** DNS message encoding (RFC 1035 §4.1, RFC 6891 §6): queries with EDNS0 and DO, and whole messages without compression. */
import { randomInt } from 'node:crypto'
import { concatBytes } from '../bytes.js'
import { EDNS_UDP_SIZE, FLAG, TYPE } from './constants.js'
import { type Name, nameToWire } from './name.js'
import type { Message } from './wire.js'

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
  return concatBytes(...parts)
}
