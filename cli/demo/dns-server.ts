/** The demo's authoritative DNS server: one signed zone over UDP and TCP on 127.0.0.1 (RFC 1035 §4.2, RFC 4035 §3.1, RFC 7766). */
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createServer, type Server, type Socket } from 'node:net'
import { isSubdomain, type Name, nameToWire } from '../../src/dns/name.js'
import { decodeMessage, FLAG, type Message, type Question, RCODE, type Rr, TYPE } from '../../src/dns/wire.js'
import { closestEncloser, coveringOwner, hasDescendant, type SignedZone, sigsFor } from './zone.js'

export interface DemoDnsServer {
  /** `127.0.0.1:PORT`, the form DNS_SERVER takes. */
  readonly address: string
  readonly port: number
  /** Swap in a re-signed zone (e.g. after a record change). */
  setZone(zone: SignedZone): void
  readonly queries: () => number
  close(): Promise<void>
}

interface Answer {
  rcode: number
  answers: Rr[]
  authority: Rr[]
}

/** What an authoritative server answers for one question (RRSIGs and NSEC proofs only when DO is set). */
export function answerQuestion(zone: SignedZone, q: Question, dnssecOk: boolean): Answer {
  const name = q.name
  if (!isSubdomain(name, zone.apex) || q.class !== 1) return { rcode: RCODE.REFUSED, answers: [], authority: [] }
  const withSigs = (owner: Name, type: number): Rr[] => {
    const set = zone.rrsets.get(owner)?.get(type) ?? []
    return dnssecOk && type !== TYPE.RRSIG ? [...set, ...sigsFor(zone, owner, type)] : [...set]
  }
  const soa = (): Rr[] => withSigs(zone.apex, TYPE.SOA)
  const nsec = (owner: Name): Rr[] => (dnssecOk ? withSigs(owner, TYPE.NSEC) : [])
  const node = zone.rrsets.get(name)
  if (node !== undefined) {
    if (node.has(q.type)) return { rcode: RCODE.NOERROR, answers: withSigs(name, q.type), authority: [] }
    // NODATA: the owner's own NSEC proves the type is absent (RFC 4035 §3.1.3.1).
    return { rcode: RCODE.NOERROR, answers: [], authority: [...soa(), ...nsec(name)] }
  }
  if (hasDescendant(zone, name)) {
    // Empty non-terminal (e.g. _device.daneel.test.): NODATA proven by the NSEC that covers it.
    return { rcode: RCODE.NOERROR, answers: [], authority: [...soa(), ...nsec(coveringOwner(zone, name))] }
  }
  // NXDOMAIN: an NSEC covering the name and one covering the wildcard at the closest encloser (RFC 4035 §3.1.3.2).
  const a = coveringOwner(zone, name)
  const b = coveringOwner(zone, `*.${closestEncloser(zone, name)}`)
  return { rcode: RCODE.NXDOMAIN, answers: [], authority: [...soa(), ...nsec(a), ...(b === a ? [] : nsec(b))] }
}

function encodeRr(rr: Rr): Uint8Array {
  const owner = nameToWire(rr.name)
  const out = new Uint8Array(owner.length + 10 + rr.rdata.length)
  const dv = new DataView(out.buffer)
  out.set(owner, 0)
  dv.setUint16(owner.length, rr.type)
  dv.setUint16(owner.length + 2, rr.class)
  dv.setUint32(owner.length + 4, rr.ttl)
  dv.setUint16(owner.length + 8, rr.rdata.length)
  out.set(rr.rdata, owner.length + 10)
  return out
}

/** Encodes a response, uncompressed. `limit` bytes at most: beyond it, header and question only, with TC set. */
export function encodeResponse(query: Message, ans: Answer, limit: number): Uint8Array {
  const q = query.questions[0]
  const qwire =
    q === undefined
      ? new Uint8Array(0)
      : (() => {
          const n = nameToWire(q.name)
          const b = new Uint8Array(n.length + 4)
          b.set(n, 0)
          new DataView(b.buffer).setUint16(n.length, q.type)
          new DataView(b.buffer).setUint16(n.length + 2, q.class)
          return b
        })()
  const opt = query.edns === undefined ? undefined : Uint8Array.from([0, 0, 41, 0x04, 0xd0, 0, 0, query.edns.dnssecOk ? 0x80 : 0, 0, 0, 0])
  const build = (answers: Rr[], authority: Rr[], tc: boolean): Uint8Array => {
    const parts = [...answers.map(encodeRr), ...authority.map(encodeRr)]
    const size = 12 + qwire.length + parts.reduce((n, p) => n + p.length, 0) + (opt?.length ?? 0)
    const out = new Uint8Array(size)
    const dv = new DataView(out.buffer)
    dv.setUint16(0, query.id)
    dv.setUint16(2, FLAG.QR | FLAG.AA | (query.flags & FLAG.RD) | (tc ? FLAG.TC : 0) | (ans.rcode & 0xf))
    dv.setUint16(4, q === undefined ? 0 : 1)
    dv.setUint16(6, answers.length)
    dv.setUint16(8, authority.length)
    dv.setUint16(10, opt === undefined ? 0 : 1)
    out.set(qwire, 12)
    let o = 12 + qwire.length
    for (const p of parts) {
      out.set(p, o)
      o += p.length
    }
    if (opt !== undefined) out.set(opt, o)
    return out
  }
  const full = build(ans.answers, ans.authority, false)
  return full.length <= limit ? full : build([], [], true)
}

function respond(zone: SignedZone, bytes: Uint8Array, limitFor: (m: Message) => number): Uint8Array | undefined {
  let query: Message
  try {
    query = decodeMessage(bytes)
  } catch {
    return undefined // not even a header we can answer to: drop, as servers do with garbage
  }
  if ((query.flags & FLAG.QR) !== 0) return undefined
  const q = query.questions[0]
  if (query.questions.length !== 1 || q === undefined) {
    return encodeResponse(query, { rcode: RCODE.FORMERR, answers: [], authority: [] }, limitFor(query))
  }
  return encodeResponse(query, answerQuestion(zone, q, query.edns?.dnssecOk === true), limitFor(query))
}

/** Starts the server on a free port, or `fixedPort` (UDP and TCP share it; a free port is retried if its TCP side is taken). */
export async function startDnsServer(initial: SignedZone, host = '127.0.0.1', fixedPort = 0): Promise<DemoDnsServer> {
  let zone = initial
  let queries = 0
  for (let attempt = 0; ; attempt++) {
    const udp: UdpSocket = createSocket('udp4')
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject)
      udp.bind(fixedPort, host, () => resolve())
    })
    const port = udp.address().port
    const conns = new Set<Socket>()
    const tcp: Server = createServer((sock) => {
      conns.add(sock)
      sock.on('close', () => conns.delete(sock))
      sock.on('error', () => sock.destroy())
      let buf = Buffer.alloc(0)
      sock.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk])
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0)
          const msg = buf.subarray(2, 2 + len)
          buf = buf.subarray(2 + len)
          queries++
          const out = respond(zone, msg, () => 65535)
          if (out !== undefined) sock.write(Buffer.concat([Buffer.from([out.length >>> 8, out.length & 0xff]), out]))
        }
      })
    })
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false))
      tcp.listen(port, host, () => resolve(true))
    })
    if (!ok) {
      udp.close()
      if (attempt >= 20 || fixedPort !== 0)
        throw new Error(`no free port for the demo DNS server${fixedPort !== 0 ? ` (${fixedPort} taken)` : ''}`)
      continue
    }
    udp.on('message', (msg, rinfo) => {
      queries++
      // RFC 6891 §6.2.5: no EDNS means 512 bytes; never more than the requester's advertised size.
      const out = respond(zone, msg, (m) => (m.edns === undefined ? 512 : Math.max(512, m.edns.udpSize)))
      if (out !== undefined) udp.send(out, rinfo.port, rinfo.address)
    })
    udp.on('error', () => {})
    return {
      address: `${host}:${port}`,
      port,
      setZone: (z) => {
        zone = z
      },
      queries: () => queries,
      async close(): Promise<void> {
        for (const c of conns) c.destroy()
        await new Promise<void>((r) => tcp.close(() => r()))
        await new Promise<void>((r) => udp.close(() => r()))
      },
    }
  }
}
