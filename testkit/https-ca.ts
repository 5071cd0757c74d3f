/** Test PKI made by openssl 3 (`openssl ca`, so validity dates can lie in the past) and a local HTTPS server for PKIX-CD. */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

export interface TestCert {
  name: string
  certPath: string
  keyPath: string
  certPem: string
  certDer: Uint8Array
  /** subjectKeyIdentifier as lower-case hex bytes joined by '-' (the PKIX-CD <keyid> of certificates it issues). */
  keyId: string
}

export interface CertOptions {
  /** openssl `ca` date form YYYYMMDDHHMMSSZ; default now - 1 day. */
  start?: string
  /** default start + 30 days. */
  end?: string
  /** Extension lines for the v3 section (basicConstraints, keyUsage, subjectAltName...). */
  ext: string[]
  /** Issuing CA; omitted = self-signed. */
  issuer?: TestCert
  subject?: string
}

/** openssl `ca` time format for a Date. */
export function caTime(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`
}

const DAY = 86_400_000

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function keyIdOf(certPath: string, dir: string): string {
  const text = openssl(['x509', '-in', certPath, '-noout', '-ext', 'subjectKeyIdentifier'], dir)
  const m = /([0-9A-F]{2}(?::[0-9A-F]{2})+)/i.exec(text)
  if (m?.[1] === undefined) throw new Error(`no SKI in ${certPath}`)
  return m[1].toLowerCase().replaceAll(':', '-')
}

/**
 * Issues a P-256 certificate with openssl `ca` (self-signed with -selfsign when no issuer). Every certificate
 * gets its own tiny CA database in `dir/name.db/`.
 */
export function issueCert(dir: string, name: string, opts: CertOptions): TestCert {
  const db = join(dir, `${name}.db`)
  mkdirSync(db, { recursive: true })
  writeFileSync(join(db, 'index.txt'), '')
  writeFileSync(join(db, 'serial'), `${BigInt(Date.now()).toString(16).padStart(16, '0')}\n`)
  const keyPath = join(dir, `${name}.key.pem`)
  const csrPath = join(db, 'req.csr')
  const certPath = join(dir, `${name}.crt.pem`)
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath], dir)
  const subject = opts.subject ?? `/CN=${name}`
  openssl(['req', '-new', '-key', keyPath, '-subj', subject, '-out', csrPath], dir)
  const start = opts.start ?? caTime(Date.now() - DAY)
  const end = opts.end ?? caTime(Date.now() + 30 * DAY)
  const signKey = opts.issuer?.keyPath ?? keyPath
  const cfg = [
    '[ ca ]',
    'default_ca = tca',
    '[ tca ]',
    `dir = ${db}`,
    'database = $dir/index.txt',
    'serial = $dir/serial',
    'new_certs_dir = $dir',
    'default_md = sha256',
    'policy = anything',
    'unique_subject = no',
    'email_in_dn = no',
    'copy_extensions = none',
    '[ anything ]',
    'commonName = supplied',
    '[ v3 ]',
    'subjectKeyIdentifier = hash',
    ...(opts.issuer === undefined ? [] : ['authorityKeyIdentifier = keyid:always']),
    ...opts.ext,
    '',
  ].join('\n')
  const cfgPath = join(db, 'ca.cnf')
  writeFileSync(cfgPath, cfg)
  const args = [
    'ca',
    '-batch',
    '-config',
    cfgPath,
    '-extensions',
    'v3',
    '-in',
    csrPath,
    '-out',
    certPath,
    '-keyfile',
    signKey,
    '-startdate',
    start,
    '-enddate',
    end,
    '-notext',
  ]
  if (opts.issuer === undefined) args.push('-selfsign')
  else args.push('-cert', opts.issuer.certPath)
  openssl(args, dir)
  const certPem = readFileSync(certPath, 'utf8')
  const der = Buffer.from(certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
  return { name, certPath, keyPath, certPem, certDer: new Uint8Array(der), keyId: keyIdOf(certPath, dir) }
}

export const CA_EXT = ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign']
export const entityExt = (...dnsNames: string[]): string[] => [
  'basicConstraints = critical,CA:FALSE',
  'keyUsage = critical,digitalSignature,keyAgreement',
  `subjectAltName = ${dnsNames.map((n) => `DNS:${n}`).join(',')}`,
]

/** What a service monitor watches on `host`: its current certificate, the next (a rollover), an unrelated one, one that expires 3 days after `now`. */
export interface ServiceCerts {
  cur: TestCert
  next: TestCert
  other: TestCert
  soon: TestCert
}

export function issueServiceCerts(dir: string, host: string, now = Date.now()): ServiceCerts {
  return {
    cur: issueCert(dir, 'cur', { ext: entityExt(host) }),
    next: issueCert(dir, 'next', { ext: entityExt(host) }),
    other: issueCert(dir, 'other', { ext: entityExt(host) }),
    soon: issueCert(dir, 'soon', { ext: entityExt(host), end: caTime(now + 3 * 86_400_000) }),
  }
}

/** A Web-PKI stand-in: a root plus a server certificate for `host` (and 127.0.0.1), for the HTTPS side. */
export function makeWebPki(dir: string, host: string): { root: TestCert; server: TestCert } {
  const root = issueCert(dir, 'web-root', { ext: CA_EXT, subject: '/CN=daneel test web root' })
  const server = issueCert(dir, 'web-server', {
    issuer: root,
    subject: `/CN=${host}`,
    ext: [
      'basicConstraints = CA:FALSE',
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = DNS:${host},IP:127.0.0.1`,
    ],
  })
  return { root, server }
}

export interface Route {
  status?: number
  body?: string | Uint8Array
  /** Wait this long before answering (a slow server). */
  delayMs?: number
  /** Stream the body in 8 KiB chunks without a content-length (chunked encoding). */
  chunked?: boolean
}

export interface HttpsCaServer {
  port: number
  /** Requests seen, by path (to prove caching). */
  hits: Map<string, number>
  setRoute(path: string, route: Route): void
  stop(): Promise<void>
}

/** An HTTPS server on 127.0.0.1:0 serving fixed routes; unknown paths get 404. */
export async function startHttpsCaServer(server: TestCert): Promise<HttpsCaServer> {
  const routes = new Map<string, Route>()
  const hits = new Map<string, number>()
  const timers = new Set<NodeJS.Timeout>()
  const srv: Server = createServer({ cert: server.certPem, key: readFileSync(server.keyPath) }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    hits.set(path, (hits.get(path) ?? 0) + 1)
    const route = routes.get(path)
    const answer = (): void => {
      if (route === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
        return
      }
      if (route.chunked !== true) {
        res.writeHead(route.status ?? 200, { 'content-type': 'application/x-pem-file' }).end(route.body ?? '')
        return
      }
      res.writeHead(route.status ?? 200, { 'content-type': 'application/x-pem-file' })
      const body = Buffer.from(route.body ?? '')
      for (let off = 0; off < body.length; off += 8192) res.write(body.subarray(off, off + 8192))
      res.end()
    }
    if (route?.delayMs === undefined) answer()
    else {
      const t = setTimeout(() => {
        timers.delete(t)
        answer()
      }, route.delayMs)
      timers.add(t)
    }
  })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as AddressInfo).port
  return {
    port,
    hits,
    setRoute: (path, route) => routes.set(path, route),
    stop: async () => {
      for (const t of timers) clearTimeout(t)
      srv.closeAllConnections()
      await new Promise<void>((resolve) => srv.close(() => resolve()))
    },
  }
}
