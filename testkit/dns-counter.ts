/** A counting DNS forwarder for benches: UDP and TCP on 127.0.0.1 to one upstream server, queries counted by type. */
import { createSocket, type RemoteInfo } from 'node:dgram'
import { connect, createServer, type Socket } from 'node:net'
import dnsPacket from 'dns-packet'
import { freePort } from './ports.js'

/*
 * Counting at the wire, outside the resolver under test: what the authoritative server would see. Each UDP
 * query is forwarded from its own socket (replies go back to the asker); a TCP connection is piped through
 * whole and its queries counted from the length-prefixed stream (RFC 1035 §4.2.2).
 */
export interface DnsCounter {
  /** "127.0.0.1:PORT", for DNS_SERVER. */
  server: string
  /** Queries seen so far by type mnemonic ('TLSA', 'DNSKEY', 'DS', …) and in all. */
  counts(): { total: number; tcp: number; byType: Record<string, number> }
  stop(): Promise<void>
}

export async function startDnsCounter(upstream: { host: string; port: number }): Promise<DnsCounter> {
  const byType: Record<string, number> = {}
  let total = 0
  let tcp = 0
  const count = (msg: Buffer): void => {
    total++
    let type = 'unparsed'
    try {
      type = dnsPacket.decode(msg).questions?.[0]?.type ?? 'none'
    } catch {}
    byType[type] = (byType[type] ?? 0) + 1
  }
  const port = await freePort()
  const udp = createSocket('udp4')
  udp.on('message', (msg: Buffer, from: RemoteInfo) => {
    count(msg)
    const up = createSocket('udp4')
    const t = setTimeout(() => up.close(), 5000)
    up.on('message', (reply) => {
      clearTimeout(t)
      udp.send(reply, from.port, from.address)
      up.close()
    })
    up.on('error', () => undefined)
    up.send(msg, upstream.port, upstream.host)
  })
  await new Promise<void>((r) => udp.bind(port, '127.0.0.1', () => r()))
  const sockets = new Set<Socket>()
  const tcpServer = createServer((client) => {
    const up = connect(upstream.port, upstream.host)
    sockets.add(client).add(up)
    let buf = Buffer.alloc(0)
    client.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        tcp++
        count(buf.subarray(2, 2 + buf.readUInt16BE(0)))
        buf = buf.subarray(2 + buf.readUInt16BE(0))
      }
      up.write(d)
    })
    up.on('data', (d: Buffer) => client.write(d))
    const close = (): void => {
      client.destroy()
      up.destroy()
      sockets.delete(client)
      sockets.delete(up)
    }
    client.on('close', close).on('error', close)
    up.on('close', close).on('error', close)
  })
  await new Promise<void>((r) => tcpServer.listen(port, '127.0.0.1', () => r()))
  return {
    server: `127.0.0.1:${port}`,
    counts: () => ({ total, tcp, byType: { ...byType } }),
    stop: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => tcpServer.close(() => r()))
      await new Promise<void>((r) => udp.close(() => r()))
    },
  }
}
