/** The real identity operations behind provisioning: src/identity/store for files, `daneel identity check` for DNS. */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { pkixCdUrl } from '../src/dane/pkix-cd.js'
import { viewCertificate } from '../src/dane/cert-view.js'
import { DaneelError } from '../src/errors.js'
import { pemDecode } from '../src/x509/pem.js'
import type { EnvSettings } from './env-file.js'
import type { IdentityOps } from './session.js'
import { identityPaths } from './state.js'

export interface IdentityOpsOptions {
  /** argv that runs the daneel CLI (default: this process's node and entry script, so a bundle calls itself). */
  cli?: string[]
  /** Upper bound for one non-waiting self-check (ms). */
  checkTimeoutMs?: number
}

// The store module is loaded by name until src/identity/store.ts lands (then this becomes a static import).
type Store = {
  createIdentity(o: Record<string, unknown>): Promise<unknown> | unknown
  installCertificate(...a: unknown[]): Promise<unknown> | unknown
}
const storePath = '../src/identity/store.js'
const loadStore = (): Promise<Store> => import(storePath) as Promise<Store>

/** The zone-file lines `daneel identity tlsa` prints for this identity (one code path for both). */
async function tlsaLines(cli: string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const r = await runCli(cli, ['identity', 'tlsa'], env, 30_000)
  if (r.code !== 0) throw new DaneelError('ERR_PROVISION', `cannot compute the TLSA record: ${r.lines.at(-1) ?? ''}`)
  return r.lines.filter((l) => /\sTLSA\s/.test(l))
}

function envFor(cryptoPath: string, settings: EnvSettings): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CRYPTO_PATH: cryptoPath }
  for (const [k, v] of Object.entries(settings)) if (v !== undefined) env[k] = v
  return env
}

/** Runs the CLI as a child and collects its output lines (stdout and stderr), never the key: the CLI never prints it. */
export function runCli(cli: string[], args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; lines: string[] }> {
  return new Promise((resolve) => {
    const [cmd = process.execPath, ...pre] = cli
    const child = spawn(cmd, [...pre, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
    const timer = timeoutMs > 0 ? setTimeout(() => child.kill('SIGTERM'), timeoutMs) : undefined
    child.on('error', (err) => {
      if (timer !== undefined) clearTimeout(timer)
      resolve({ code: 127, lines: [`cannot run daneel: ${err.message}`] })
    })
    child.on('close', (code) => {
      if (timer !== undefined) clearTimeout(timer)
      resolve({ code: code ?? 1, lines: out.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '') })
    })
  })
}

export function createIdentityOps(opts: IdentityOpsOptions = {}): IdentityOps {
  const cli = opts.cli ?? [process.execPath, process.argv[1] ?? 'daneel']
  return {
    async create({ cryptoPath, daneId, keyType, csr, noDnssec, uid, force }) {
      const store = await loadStore()
      await store.createIdentity({ cryptoPath, daneId, keyType, days: 365, csr, noDnssec, uid, force, now: new Date() })
    },
    async tlsa({ cryptoPath, daneId, noDnssec }) {
      return tlsaLines(cli, envFor(cryptoPath, { DANE_ID: daneId, ...(noDnssec ? { NO_DNSSEC: '1' } : {}) }))
    },
    async pkixCdUrl({ cryptoPath, daneId }) {
      const der = pemDecode(readFileSync(identityPaths(cryptoPath, daneId).crt, 'utf8'), 'CERTIFICATE')[0]
      if (der === undefined) throw new DaneelError('ERR_CERT_INVALID', 'no certificate in the certificate file')
      const cert = viewCertificate(der)
      const aki = cert.aki ?? cert.ski
      return aki === undefined ? undefined : pkixCdUrl(daneId, aki)
    },
    async install({ cryptoPath, daneId, pem, uid }) {
      const store = await loadStore()
      await store.installCertificate({ cryptoPath, daneId, pem, uid })
    },
    async check({ cryptoPath, settings, wait }) {
      const r = await runCli(cli, ['identity', 'check', ...(wait ? ['--wait'] : [])], envFor(cryptoPath, settings), wait ? 0 : (opts.checkTimeoutMs ?? 60_000))
      return { ok: r.code === 0, lines: r.lines }
    },
  }
}
