/** The real identity operations behind provisioning: src/identity/store for files, `daneel identity check` for DNS. */
import { spawn } from 'node:child_process'
import { viewCertificate } from '../src/dane/cert-view.js'
import { pkixCdUrl } from '../src/dane/pkix-cd.js'
import { formatTlsaZoneLine, makeTlsaRecord } from '../src/dane/tlsa.js'
import { DaneelError } from '../src/errors.js'
import { createIdentity, installCertificate } from '../src/identity/store.js'
import { MAX_PEM_FILE_BYTES, readTextBounded } from '../src/read-file.js'
import { pemDecode } from '../src/x509/pem.js'
import { type EnvSettings, SETTABLE_KEYS } from './env-file.js'
import type { IdentityOps } from './session.js'
import { identityPaths } from './state.js'

export interface IdentityOpsOptions {
  /** argv that runs the daneel CLI (default: this process's node and entry script, so a bundle calls itself). */
  cli?: string[]
  /** Upper bound for one non-waiting self-check (ms). */
  checkTimeoutMs?: number
  /**
   * How the self-check reaches DNS when the env file does not say: the `--dns`, `--trust-anchors`, `--dnssec` given
   * to `daneel provision` (or DNS_SERVER, DNSSEC_TRUST_ANCHORS, DNSSEC in its environment).
   */
  dns?: DnsDefaults
}

/** The DNS settings of the provisioning process itself, used by the self-check under the env file's own. */
export type DnsDefaults = Partial<Record<'DNS_SERVER' | 'DNSSEC_TRUST_ANCHORS' | 'DNSSEC', string>>

function readCertDer(cryptoPath: string, daneId: string): Uint8Array {
  const der = pemDecode(
    readTextBounded(identityPaths(cryptoPath, daneId).crt, { maxBytes: MAX_PEM_FILE_BYTES, what: 'certificate' }),
    'CERTIFICATE',
  )[0]
  if (der === undefined) throw new DaneelError('ERR_CERT_INVALID', 'no certificate in the certificate file')
  return der
}

/**
 * The record to publish: the full certificate (selector 0, matching 0), because receivers fetch the sender's key
 * from it (docs/contract.md "TLSA"). Usage 3 (DANE-EE) under DNSSEC; usage 4, the original system's PKIX-CD code point,
 * with NO_DNSSEC (our discovery accepts 3 0 0 and 4 0 0 on its PKIX-CD path).
 */
function tlsaLines(cryptoPath: string, daneId: string, noDnssec: boolean): string[] {
  return [formatTlsaZoneLine(daneId, makeTlsaRecord(readCertDer(cryptoPath, daneId), noDnssec ? 4 : 3, 0, 0))]
}

/**
 * The child's environment: ours, but every provisionable variable comes from the env file alone, so a setting
 * unset over the line is not resurrected from what the unit's EnvironmentFile= loaded at start; only how DNS is
 * reached falls back to what `daneel provision` itself was given (else the check asks the wrong resolver).
 */
function envFor(cryptoPath: string, settings: EnvSettings, dns: DnsDefaults = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CRYPTO_PATH: cryptoPath }
  for (const k of [...SETTABLE_KEYS, 'IDENTITY_NAME']) delete env[k]
  for (const [k, v] of Object.entries(dns)) if (v !== undefined && v !== '') env[k] = v
  for (const [k, v] of Object.entries(settings)) if (v !== undefined) env[k] = v
  return env
}

/** Runs the CLI as a child and collects its output lines (stdout and stderr), never the key: the CLI never prints it. */
export function runCli(
  cli: string[],
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  onLine?: (line: string) => void,
): Promise<{ code: number; lines: string[] }> {
  return new Promise((resolve) => {
    const [cmd = process.execPath, ...pre] = cli
    const child = spawn(cmd, [...pre, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let partial = ''
    const take = (d: string): void => {
      out += d
      if (onLine === undefined) return
      const parts = (partial + d).split('\n')
      partial = parts.pop() ?? ''
      for (const l of parts) if (l.trim() !== '') onLine(l.trimEnd())
    }
    child.stdout.setEncoding('utf8').on('data', take)
    child.stderr.setEncoding('utf8').on('data', take)
    const timer = timeoutMs > 0 ? setTimeout(() => child.kill('SIGTERM'), timeoutMs) : undefined
    child.on('error', (err) => {
      if (timer !== undefined) clearTimeout(timer)
      resolve({ code: 127, lines: [`cannot run daneel: ${err.message}`] })
    })
    child.on('close', (code) => {
      if (timer !== undefined) clearTimeout(timer)
      if (onLine !== undefined && partial.trim() !== '') onLine(partial.trimEnd())
      resolve({
        code: code ?? 1,
        lines: out
          .split('\n')
          .map((l) => l.trimEnd())
          .filter((l) => l !== ''),
      })
    })
  })
}

export function createIdentityOps(opts: IdentityOpsOptions = {}): IdentityOps {
  const cli = opts.cli ?? [process.execPath, process.argv[1] ?? 'daneel']
  return {
    async create({ cryptoPath, daneId, keyType, csr, noDnssec, uid, force }) {
      createIdentity({ cryptoPath, daneId, keyType, days: 365, csr, noDnssec, uid, force, now: Date.now() })
    },
    async tlsa({ cryptoPath, daneId, noDnssec }) {
      return tlsaLines(cryptoPath, daneId, noDnssec)
    },
    async pkixCdUrl({ cryptoPath, daneId }) {
      const cert = viewCertificate(readCertDer(cryptoPath, daneId))
      const aki = cert.aki ?? cert.ski
      return aki === undefined ? undefined : pkixCdUrl(daneId, aki)
    },
    async install({ cryptoPath, daneId, pem, uid }) {
      installCertificate(cryptoPath, daneId, pem, { uid })
    },
    async check({ cryptoPath, settings, wait, waitLimitS, onLine }) {
      const limit = wait && waitLimitS !== undefined ? ['--timeout', String(waitLimitS)] : []
      const args = ['identity', 'check', ...(wait ? ['--wait'] : []), ...limit]
      const r = await runCli(cli, args, envFor(cryptoPath, settings, opts.dns), wait ? 0 : (opts.checkTimeoutMs ?? 60_000), onLine)
      return { ok: r.code === 0, lines: r.lines }
    },
  }
}
