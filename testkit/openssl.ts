/** OpenSSL as an independent oracle for tests: run the CLI, and s_server + s_client -dane_tlsa_rrdata on loopback. */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'

export interface OpensslResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `openssl ARGS` synchronously (stdin from `input`, else closed). Never throws on a non-zero exit. */
export function openssl(args: readonly string[], opts: { input?: string | Uint8Array; cwd?: string } = {}): OpensslResult {
  const r = spawnSync('openssl', args, { input: Buffer.from(opts.input ?? ''), cwd: opts.cwd, timeout: 60_000 })
  if (r.error !== undefined) throw r.error
  return { code: r.status ?? -1, stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1') }
}

/** Runs openssl and returns stdout as bytes; throws with stderr when it fails. */
export function opensslBytes(args: readonly string[], input?: string | Uint8Array): Uint8Array {
  const r = spawnSync('openssl', args, { input: Buffer.from(input ?? ''), timeout: 60_000 })
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr?.toString()}`)
  return new Uint8Array(r.stdout)
}

/** Like `openssl`, but throws unless the exit status is 0; returns stdout. */
export function opensslOk(args: readonly string[], opts: { input?: string | Uint8Array; cwd?: string } = {}): string {
  const r = openssl(args, opts)
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

export interface TlsServer {
  readonly port: number
  /** Stops the server we started (by its own PID only). */
  stop(): Promise<void>
}

/**
 * Starts `openssl s_server` on 127.0.0.1 with a port the kernel picks (openssl prints "ACCEPT 127.0.0.1:N").
 * `certPath` may hold the chain (leaf first) for DANE-TA records; it is also sent as -cert_chain, unless
 * `chainPath` names another file or is null (send the certificate alone).
 */
export async function startTlsServer(opts: { certPath: string; keyPath: string; chainPath?: string | null }): Promise<TlsServer> {
  const args = ['s_server', '-accept', '127.0.0.1:0', '-cert', opts.certPath, '-key', opts.keyPath, '-www', '-no_dhe']
  const chain = opts.chainPath === undefined ? opts.certPath : opts.chainPath
  if (chain !== null) args.push('-cert_chain', chain)
  const child: ChildProcess = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`s_server did not start: ${out}`))
    }, 15_000)
    const onData = (b: Buffer): void => {
      out += b.toString()
      const m = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out)
      if (m?.[1] !== undefined) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`s_server exited ${code}: ${out}`))
    })
  })
  child.removeAllListeners('exit')
  child.stdout?.resume()
  child.stderr?.resume()
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

export interface DaneVerdict {
  /** OpenSSL's X509 verify code: 0 ok, 65 DANE no match, 62 hostname mismatch, 20 no local issuer. */
  code: number
  /** The "DANE TLSA ... matched ..." line when a record matched. */
  matched: string | undefined
  output: string
}

/**
 * Connects `openssl s_client -dane_tlsa_domain DOMAIN -dane_tlsa_rrdata R...` to the server and returns OpenSSL's
 * verdict. DANE-EE name checks are off unless `nameChecks` (RFC 7671 §5.1), as in the reference oracle script.
 */
export function daneVerify(opts: {
  port: number
  domain: string
  rrdata: readonly string[]
  nameChecks?: boolean
  caFile?: string
  /** Speak SMTP and STARTTLS first (RFC 3207), as a DANE SMTP client does (RFC 7672). */
  smtp?: boolean
}): Promise<DaneVerdict> {
  const args = ['s_client', '-connect', `127.0.0.1:${opts.port}`, '-servername', opts.domain, '-dane_tlsa_domain', opts.domain]
  if (opts.nameChecks !== true) args.push('-dane_ee_no_namechecks')
  if (opts.caFile !== undefined) args.push('-CAfile', opts.caFile)
  for (const r of opts.rrdata) args.push('-dane_tlsa_rrdata', r)
  if (opts.smtp === true) args.push('-starttls', 'smtp')
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', args, { timeout: 30_000, encoding: 'latin1' }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`
      const codes = [...output.matchAll(/Verify return code: (\d+)/g)].map((m) => Number(m[1]))
      const code = codes[codes.length - 1]
      if (code === undefined) return reject(new Error(`no verify result from s_client (${err?.message ?? 'no error'}): ${output}`))
      resolve({ code, matched: /^DANE TLSA .*$/m.exec(output)?.[0], output })
    })
    child.stdin?.end()
  })
}

/** `openssl req -newkey` arguments for each key type an identity may have. */
export const NEWKEY_ARGS = {
  p256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  ed25519: ['-newkey', 'ed25519'],
  rsa: ['-newkey', 'rsa:2048'],
} as const satisfies Record<string, readonly string[]>

export type OpensslKeyType = keyof typeof NEWKEY_ARGS

export interface NewKeyRequest {
  /** The key openssl makes (default p256), written unencrypted to `key`. */
  type?: OpensslKeyType
  key: string
  /** The certificate (`-x509`) or the CSR (`-new`) openssl writes. */
  out: string
  subject: string
  days?: number
  /** `-addext` values, e.g. `subjectAltName=DNS:name`. */
  ext?: readonly string[]
}

/** `openssl req -x509|-new` arguments: a fresh key and its self-signed certificate, or a CSR for it. */
export function newKeyRequestArgs(mode: '-x509' | '-new', o: NewKeyRequest): string[] {
  return [
    ...['req', mode, ...NEWKEY_ARGS[o.type ?? 'p256'], '-nodes', '-keyout', o.key, '-out', o.out],
    ...(o.days === undefined ? [] : ['-days', String(o.days)]),
    ...['-subj', o.subject],
    ...(o.ext ?? []).flatMap((e) => ['-addext', e]),
  ]
}

/** `openssl req -x509` arguments: a fresh P-256 key (unencrypted) and its self-signed certificate, made by openssl. */
export function selfSignedP256Args(o: Omit<NewKeyRequest, 'type' | 'out'> & { cert: string }): string[] {
  return newKeyRequestArgs('-x509', { ...o, out: o.cert })
}

/** `openssl req -x509` arguments for a self-signed identity certificate: `name` as CN and as the one DNS SAN. */
export function selfSignedIdentityArgs(type: OpensslKeyType, name: string, files: { key: string; cert: string }, days = 30): string[] {
  return newKeyRequestArgs('-x509', {
    type,
    key: files.key,
    out: files.cert,
    subject: `/CN=${name}`,
    days,
    ext: [`subjectAltName=DNS:${name}`],
  })
}
