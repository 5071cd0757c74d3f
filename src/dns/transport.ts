/** DNS over UDP and TCP (RFC 1035 §4.2, RFC 7766): replies matched to the server, ID and question; transports are injectable. */
import { createSocket } from 'node:dgram'
import { connect, isIP } from 'node:net'
import { DaneelError } from '../errors.js'
import { type Question, readName } from './wire.js'

export interface ServerAddress {
  host: string
  port: number
  family: 4 | 6
}

export interface Exchange {
  server: ServerAddress
  /** The encoded query. */
  bytes: Uint8Array
  id: number
  question: Question
  tcp: boolean
  timeoutMs: number
}

/** Sends one query and resolves with the raw reply; rejects with ERR_DNS_TIMEOUT or ERR_DNS_FORMAT. */
export interface Transport {
  exchange(x: Exchange): Promise<Uint8Array>
}

/** Parses "host", "host:port", "[v6]:port" or a bare IPv6 address (default port 53). Throws ERR_CONFIG_INVALID. */
export function parseServer(s: string): ServerAddress {
  const t = s.trim()
  let host = t
  let port = 53
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t)
  if (v6 !== null) {
    host = v6[1] as string
    if (v6[2] !== undefined) port = Number(v6[2])
  } else if ((t.match(/:/g) ?? []).length === 1) {
    const [h, p] = t.split(':') as [string, string]
    host = h
    port = Number(p)
  }
  const fam = isIP(host)
  if (fam === 0) throw new DaneelError('ERR_CONFIG_INVALID', `DNS server must be an IP address[:port], not '${s}'`)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DaneelError('ERR_CONFIG_INVALID', `bad DNS server port in '${s}'`)
  return { host, port, family: fam as 4 | 6 }
}

export const formatServer = (a: ServerAddress): string => (a.family === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)

/** True when the bytes are a reply to this query: QR set, same ID, same single question (name case-insensitive). */
export function matchesQuery(reply: Uint8Array, id: number, q: Question): boolean {
  if (reply.length < 12) return false
  if ((((reply[0] as number) << 8) | (reply[1] as number)) !== id || ((reply[2] as number) & 0x80) === 0) return false
  if ((((reply[4] as number) << 8) | (reply[5] as number)) !== 1) return false
  try {
    // Only the question is read here; the full decode happens once, later.
    const n = readName(reply, 12)
    if (n.end + 4 > reply.length) return false
    const type = ((reply[n.end] as number) << 8) | (reply[n.end + 1] as number)
    const klass = ((reply[n.end + 2] as number) << 8) | (reply[n.end + 3] as number)
    return n.name === q.name && type === q.type && klass === q.class
  } catch {
    return false
  }
}

const sameAddress = (a: string, b: string): boolean => a === b || a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '')

/**
 * The one way an exchange ends: the first of answer, error or timeout (ERR_DNS_TIMEOUT "`noAnswer` from SERVER
 * within N ms" after x.timeoutMs) settles the promise; the timer is cleared and the socket closed, later calls do nothing.
 */
function settleOnce(
  resolve: (v: Uint8Array) => void,
  reject: (err: Error) => void,
  close: () => void,
  x: Exchange,
  noAnswer: string,
): (err: Error | undefined, v?: Uint8Array) => void {
  let done = false
  const finish = (err: Error | undefined, v?: Uint8Array): void => {
    if (done) return
    done = true
    clearTimeout(timer)
    close()
    if (err !== undefined) reject(err)
    else resolve(v as Uint8Array)
  }
  const timer = setTimeout(
    () => finish(new DaneelError('ERR_DNS_TIMEOUT', `${noAnswer} from ${formatServer(x.server)} within ${x.timeoutMs} ms`)),
    x.timeoutMs,
  )
  return finish
}

function udpExchange(x: Exchange): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // A fresh socket per query: the kernel picks a random ephemeral source port (RFC 5452 §9.2).
    const sock = createSocket(x.server.family === 6 ? 'udp6' : 'udp4')
    const finish = settleOnce(resolve, reject, () => sock.close(), x, 'no answer')
    sock.on('error', (err) =>
      finish(new DaneelError('ERR_DNS_TIMEOUT', `UDP to ${formatServer(x.server)} failed: ${err.message}`, { cause: err })),
    )
    sock.on('message', (msg, rinfo) => {
      // Spoofing defence (RFC 5452 §9.1): anything not from the server, or not answering our question with our ID, is ignored.
      if (!sameAddress(rinfo.address, x.server.host) || rinfo.port !== x.server.port) return
      if (!matchesQuery(msg, x.id, x.question)) return
      finish(undefined, new Uint8Array(msg))
    })
    sock.send(x.bytes, x.server.port, x.server.host, (err) => {
      if (err) finish(new DaneelError('ERR_DNS_TIMEOUT', `UDP send to ${formatServer(x.server)} failed: ${err.message}`, { cause: err }))
    })
  })
}

function tcpExchange(x: Exchange): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: x.server.host, port: x.server.port })
    let buf = Buffer.alloc(0)
    const finish = settleOnce(resolve, reject, () => sock.destroy(), x, 'no TCP answer')
    sock.on('error', (err) =>
      finish(new DaneelError('ERR_DNS_TIMEOUT', `TCP to ${formatServer(x.server)} failed: ${err.message}`, { cause: err })),
    )
    sock.on('close', () =>
      finish(new DaneelError('ERR_DNS_FORMAT', `TCP connection to ${formatServer(x.server)} closed before a full answer`)),
    )
    sock.on('connect', () => {
      const len = Buffer.alloc(2)
      len.writeUInt16BE(x.bytes.length)
      sock.write(Buffer.concat([len, x.bytes]))
    })
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      // RFC 7766 §8: each message is prefixed by its two-byte length; skip any that do not answer us.
      while (buf.length >= 2) {
        const n = buf.readUInt16BE(0)
        if (buf.length < 2 + n) return
        const msg = new Uint8Array(buf.subarray(2, 2 + n))
        buf = buf.subarray(2 + n)
        if (matchesQuery(msg, x.id, x.question)) return finish(undefined, msg)
      }
    })
  })
}

/** The real network: UDP with a fresh random port per query, or TCP. */
export const netTransport: Transport = {
  exchange: (x) => (x.tcp ? tcpExchange(x) : udpExchange(x)),
}
