/** TLS peers for monitor tests: `openssl s_server` on loopback, a small SMTP STARTTLS server, and the s_client DANE oracle. */
import type { AddressInfo } from 'node:net'
import { createServer, type Server, type Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import { daneVerify, startTlsServer } from './openssl.js'

export interface Peer {
  port: number
  stop(): Promise<void>
}

/** Starts `openssl s_server -www` on 127.0.0.1 with a free port; the chain is sent only when `chainPath` is given. */
export function startOpensslServer(opts: { certPath: string; keyPath: string; chainPath?: string }): Promise<Peer> {
  return startTlsServer({ ...opts, chainPath: opts.chainPath ?? null })
}

/**
 * A small SMTP server with STARTTLS (RFC 3207): greets, answers EHLO with STARTTLS, upgrades the socket, then
 * answers EHLO/QUIT inside TLS. Enough for a DANE SMTP client (RFC 7672) to see the certificate chain.
 */
export async function startSmtpStarttls(opts: { certPem: string; keyPem: string; host?: string }): Promise<Peer> {
  const host = opts.host ?? 'mx.test'
  const sockets = new Set<Socket>()
  const server: Server = createServer((sock) => {
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    sock.on('error', () => {})
    sock.write(`220 ${host} ESMTP test\r\n`)
    let buf = ''
    const onData = (b: Buffer): void => {
      buf += b.toString('latin1')
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i).toUpperCase()
        buf = buf.slice(i + 2)
        if (line.startsWith('EHLO') || line.startsWith('HELO')) sock.write(`250-${host}\r\n250-PIPELINING\r\n250 STARTTLS\r\n`)
        else if (line === 'STARTTLS') {
          sock.off('data', onData)
          sock.write('220 2.0.0 Ready to start TLS\r\n', () => upgrade(sock))
          return
        } else if (line === 'QUIT') sock.end('221 2.0.0 Bye\r\n')
        else sock.write('502 5.5.2 Command not recognised\r\n')
      }
    }
    sock.on('data', onData)
  })
  const upgrade = (sock: Socket): void => {
    const tls = new TLSSocket(sock, { isServer: true, cert: opts.certPem, key: opts.keyPem })
    tls.on('error', () => sock.destroy())
    let buf = ''
    tls.on('data', (b: Buffer) => {
      buf += b.toString('latin1')
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i).toUpperCase()
        buf = buf.slice(i + 2)
        if (line.startsWith('EHLO')) tls.write(`250-${host}\r\n250 PIPELINING\r\n`)
        else if (line === 'QUIT') tls.end('221 2.0.0 Bye\r\n')
        else tls.write('250 2.0.0 OK\r\n')
      }
    })
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export interface OracleResult {
  /** The X509 verify code OpenSSL reports: 0 ok, 65 no matching TLSA records. */
  verifyCode: number
  /** True when OpenSSL says a TLSA record matched. */
  matched: boolean
  output: string
}

/**
 * OpenSSL's DANE verdict on a live peer: `s_client -dane_tlsa_domain D -dane_tlsa_rrdata "U S M HEX"...`
 * (`-starttls smtp` for SMTP). DANE-EE name checks off, as RFC 7671 §5.1 says.
 */
export async function opensslDaneVerdict(opts: { port: number; domain: string; rrdata: string[]; smtp?: boolean }): Promise<OracleResult> {
  const v = await daneVerify({ ...opts, smtp: opts.smtp === true })
  return { verifyCode: v.code, matched: v.matched !== undefined && / matched/.test(v.matched), output: v.output }
}
