/** A bounded Web-PKI HTTPS GET for PKIX-CD CA certificates: our resolver, 5 s, status 200 only, 64 KiB at most. */
import { type RequestOptions, request } from 'node:https'
import type { LookupFunction } from 'node:net'
import { DaneelError } from '../errors.js'

/** Fetches the bytes at an https:// URL or throws ERR_PKIXCD_FETCH. */
export type HttpsFetcher = (url: string) => Promise<Uint8Array>

/** Host name → addresses, e.g. through our own DNS resolver (never the system's getaddrinfo). */
export type HostResolver = (host: string) => Promise<Array<{ address: string; family: 4 | 6 }>>

/** The PKIX-CD limits (docs/contract.md "PKIX-CD"). */
export const PKIXCD_TIMEOUT_MS = 5_000
export const PKIXCD_MAX_BYTES = 64 * 1024

export interface HttpsFetcherOptions {
  /** Resolves the URL's host; omitted = Node's default lookup (tests with IP literals only). */
  resolveHost?: HostResolver
  /** Extra trust roots (PEM) for tests; system roots (and NODE_EXTRA_CA_CERTS) otherwise. */
  ca?: string | string[]
  timeoutMs?: number
  maxBytes?: number
  /** Connect to this port instead of the URL's (tests serve https://device.<domain>/ from a free port). */
  port?: number
}

/** Adapts a HostResolver to the callback lookup that net/tls expect (both the `all` and the single form). */
export function toLookup(resolveHost: HostResolver): LookupFunction {
  return ((hostname: string, options: { all?: boolean; family?: number | string }, callback: (...args: unknown[]) => void) => {
    resolveHost(hostname).then(
      (addrs) => {
        const want = options.family === 6 || options.family === 'IPv6' ? 6 : options.family === 4 || options.family === 'IPv4' ? 4 : 0
        const usable = want === 0 ? addrs : addrs.filter((a) => a.family === want)
        const first = usable[0]
        if (first === undefined) {
          const err = Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' })
          callback(err)
        } else if (options.all === true) callback(null, usable)
        else callback(null, first.address, first.family)
      },
      (err: unknown) => callback(err),
    )
  }) as unknown as LookupFunction
}

/** Builds the fetcher once; each call is one GET with every limit enforced, failing closed. */
export function createHttpsFetcher(opts: HttpsFetcherOptions = {}): HttpsFetcher {
  const timeoutMs = opts.timeoutMs ?? PKIXCD_TIMEOUT_MS
  const maxBytes = opts.maxBytes ?? PKIXCD_MAX_BYTES
  const lookup = opts.resolveHost === undefined ? undefined : toLookup(opts.resolveHost)
  return (url: string) =>
    new Promise<Uint8Array>((resolve, reject) => {
      let u: URL
      try {
        u = new URL(url)
      } catch (err) {
        reject(new DaneelError('ERR_PKIXCD_FETCH', `not a URL: ${url}`, { cause: err }))
        return
      }
      if (u.protocol !== 'https:') {
        reject(new DaneelError('ERR_PKIXCD_FETCH', `PKIX-CD needs https, not ${u.protocol}`))
        return
      }
      let done = false
      const fail = (msg: string, cause?: unknown): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        req.destroy()
        reject(new DaneelError('ERR_PKIXCD_FETCH', `${url}: ${msg}`, cause === undefined ? undefined : { cause }))
      }
      const ro: RequestOptions = {
        method: 'GET',
        host: u.hostname,
        servername: u.hostname,
        port: opts.port ?? (u.port === '' ? 443 : Number(u.port)),
        path: `${u.pathname}${u.search}`,
        headers: { accept: 'application/x-pem-file, application/pkix-cert' },
        rejectUnauthorized: true,
        agent: false,
      }
      if (lookup !== undefined) ro.lookup = lookup
      if (opts.ca !== undefined) ro.ca = opts.ca
      // one deadline for the whole exchange (connect, TLS, headers and body), not an idle timeout
      const timer = setTimeout(() => fail(`no complete answer within ${timeoutMs} ms`), timeoutMs)
      const req = request(ro, (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          fail(`HTTP status ${res.statusCode ?? 'none'} (only 200 is accepted)`)
          return
        }
        const declared = Number(res.headers['content-length'])
        if (Number.isFinite(declared) && declared > maxBytes) {
          fail(`body of ${declared} bytes exceeds ${maxBytes}`)
          return
        }
        const parts: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > maxBytes) fail(`body exceeds ${maxBytes} bytes`)
          else parts.push(chunk)
        })
        res.on('end', () => {
          if (done) return
          done = true
          clearTimeout(timer)
          resolve(new Uint8Array(Buffer.concat(parts)))
        })
        res.on('error', (err) => fail('response error', err))
      })
      req.on('error', (err) => fail((err as NodeJS.ErrnoException).code ?? err.message, err))
      req.end()
    })
}
