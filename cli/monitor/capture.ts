/** Takes the certificate chain a TLS or SMTP STARTTLS server presents (RFC 7672 §2.2: the DANE client sees what a sender sees). */
import { connect as netConnect, type Socket } from 'node:net'
import { type DetailedPeerCertificate, type TLSSocket, connect as tlsConnect } from 'node:tls'
import { DaneelError } from '../../src/errors.js'

export interface CaptureOptions {
  /** The address to connect to (already resolved). */
  address: string
  port: number
  /** SNI and SMTP EHLO peer name: the service's host name (RFC 7672 §8: the TLSA base domain). */
  servername: string
  smtp?: boolean
  timeoutMs?: number
  /** Our name in EHLO. */
  ehloName?: string
}

const fail = (msg: string, cause?: unknown): DaneelError => new DaneelError('ERR_MONITOR', msg, cause === undefined ? undefined : { cause })

/** Reads one SMTP reply (possibly multi-line: "250-..." continues, "250 ..." ends). */
function readReply(sock: Socket): Promise<{ code: number; lines: string[] }> {
  return new Promise((resolve, reject) => {
    let buf = ''
    const lines: string[] = []
    const onData = (b: Buffer): void => {
      buf += b.toString('latin1')
      if (buf.length > 64 * 1024) {
        done(fail('SMTP reply too long'))
        return
      }
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).replace(/\r$/, '')
        buf = buf.slice(i + 1)
        lines.push(line)
        if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
          done(undefined, { code: Number(line.slice(0, 3)), lines })
          return
        }
        if (!/^\d{3}-/.test(line)) {
          done(fail(`not an SMTP reply: ${line.slice(0, 80)}`))
          return
        }
      }
    }
    const onEnd = (): void => done(fail('SMTP server closed the connection'))
    const onErr = (err: Error): void => done(fail(`SMTP: ${err.message}`, err))
    const done = (err?: Error, value?: { code: number; lines: string[] }): void => {
      sock.off('data', onData)
      sock.off('end', onEnd)
      sock.off('error', onErr)
      if (err !== undefined) reject(err)
      else resolve(value as { code: number; lines: string[] })
    }
    sock.on('data', onData)
    sock.on('end', onEnd)
    sock.on('error', onErr)
  })
}

/** SMTP greeting, EHLO, STARTTLS (RFC 3207) on a plain socket; resolves once TLS may start. */
async function smtpStarttls(sock: Socket, ehloName: string): Promise<void> {
  const greet = await readReply(sock)
  if (greet.code !== 220) throw fail(`SMTP greeting ${greet.code}`)
  sock.write(`EHLO ${ehloName}\r\n`)
  const ehlo = await readReply(sock)
  if (ehlo.code !== 250) throw fail(`SMTP EHLO answered ${ehlo.code}`)
  if (!ehlo.lines.some((l) => /^250[- ]STARTTLS\b/i.test(l))) throw fail('SMTP server does not offer STARTTLS')
  sock.write('STARTTLS\r\n')
  const st = await readReply(sock)
  if (st.code !== 220) throw fail(`SMTP STARTTLS answered ${st.code}`)
}

/** The presented chain, leaf first, as DER (what the peer sent; no local trust store involved). */
function chainOf(tls: TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = []
  let c: DetailedPeerCertificate | undefined = tls.getPeerCertificate(true)
  const seen = new Set<string>()
  while (c !== undefined && c.raw !== undefined && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256)
    out.push(new Uint8Array(c.raw))
    c = c.issuerCertificate === c ? undefined : c.issuerCertificate
  }
  return out
}

/** Connects, (for SMTP) negotiates STARTTLS, completes the TLS handshake without PKIX checks, returns the chain. */
export async function captureChain(opts: CaptureOptions): Promise<Uint8Array[]> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  const plain = netConnect({ host: opts.address, port: opts.port })
  const timer = setTimeout(
    () => plain.destroy(fail(`no TLS handshake with ${opts.address}:${opts.port} within ${timeoutMs} ms`)),
    timeoutMs,
  )
  try {
    await new Promise<void>((resolve, reject) => {
      plain.once('connect', resolve)
      plain.once('error', (err) =>
        reject(fail(`cannot connect to ${opts.address}:${opts.port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, err)),
      )
    })
    if (opts.smtp === true) await smtpStarttls(plain, opts.ehloName ?? 'daneel-monitor.invalid')
    const tls = tlsConnect({ socket: plain, servername: opts.servername, rejectUnauthorized: false })
    await new Promise<void>((resolve, reject) => {
      tls.once('secureConnect', resolve)
      tls.once('error', (err) => reject(fail(`TLS handshake with ${opts.address}:${opts.port} failed: ${err.message}`, err)))
      plain.once('close', () => reject(fail(`connection to ${opts.address}:${opts.port} closed during the handshake`)))
    })
    const chain = chainOf(tls)
    if (opts.smtp === true) tls.write('QUIT\r\n')
    tls.end()
    if (chain.length === 0) throw fail('the server presented no certificate')
    return chain
  } finally {
    clearTimeout(timer)
    plain.destroy()
  }
}
