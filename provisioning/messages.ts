/** What goes over the provisioning line: requests, replies, the status view and help (docs/deploy.md §2). */
import { createHash, createPublicKey } from 'node:crypto'
import { readPrivateKeyFile } from '../src/key-file.js'
import { type EnvSettings, redactValue } from './env-file.js'
import { identityPaths, type KeyType, type ProvisionStatus } from './state.js'

/** A request, whichever way it arrived (typed text or a JSON line). */
export type Request =
  | { op: 'hello' | 'help' | 'status' | 'tlsa' | 'csr' | 'quit' }
  | { op: 'set'; values: Record<string, string> }
  | { op: 'unset'; keys: string[] }
  | { op: 'create'; keyType?: KeyType; csr?: boolean; force?: boolean }
  | { op: 'install'; pem: string }
  | { op: 'check'; wait?: boolean }
  | { op: 'finish'; force?: boolean }

export interface Reply {
  ok: boolean
  /** Public data only: never a private key, never a password. */
  result?: Record<string, unknown>
  /** Lines for a person (TLSA records, PEM, messages); JSON clients get them in `result` too. */
  lines?: string[]
  error?: { code: string; message: string }
  /** The session ends after this reply (quit, finish). */
  end?: boolean
}

/** The identity operations the session drives (provisioning/identity.ts wires the real ones). */
export interface IdentityOps {
  create(o: {
    cryptoPath: string
    daneId: string
    keyType: KeyType
    csr: boolean
    noDnssec: boolean
    uid: number | undefined
    force: boolean
  }): Promise<void>
  /** Zone-file lines to publish for the installed certificate. */
  tlsa(o: { cryptoPath: string; daneId: string; noDnssec: boolean }): Promise<string[]>
  /** Where the CA certificate must be served in NO_DNSSEC mode (PKIX-CD), if that mode is on. */
  pkixCdUrl(o: { cryptoPath: string; daneId: string }): Promise<string | undefined>
  install(o: { cryptoPath: string; daneId: string; pem: string; uid: number | undefined }): Promise<void>
  /** Runs the DNS self-check with these settings; ok when the published identity matches. */
  check(o: {
    cryptoPath: string
    settings: EnvSettings
    wait: boolean
    /** With wait: give up after this many seconds (default: wait forever). */
    waitLimitS?: number
    onLine?: (line: string) => void
  }): Promise<{ ok: boolean; lines: string[] }>
}

export const HELP_LINES = [
  'status                     how far provisioning got, and the next step',
  'set KEY VALUE              DANE_ID, MQTT_URL (broker), TRUSTED_DOMAINS, DNS_SERVER, NO_DNSSEC, ...',
  'unset KEY                  forget a setting',
  'create [p256|rsa2048] [csr] [force]   create the identity (self-signed, or a CSR for a CA)',
  'tlsa                       the TLSA record(s) to publish',
  'csr                        the certificate signing request (PEM)',
  'install                    then paste the CA-signed certificate (PEM); ends at -----END CERTIFICATE-----',
  'check [wait]               the DNS self-check: does the published TLSA record match? (wait: up to 15 min)',
  'finish [force]             mark provisioning done (force: without a passed DNS check)',
  'quit                       leave this session (on a serial line the console comes back; nothing is lost)',
  'JSON lines: {"id":1,"op":"status"}, {"op":"set","values":{"DANE_ID":"..."}}, {"op":"install","pem":"..."}',
]

/** The protocol's name and version, in hello/status replies, so a script can tell what it talks to. */
export const PROTOCOL = 'daneel-provision/1'

/**
 * SHA-256 of the public key (SubjectPublicKeyInfo DER), hex: lets the operator confirm which key a published record
 * belongs to. Derived from the key file; the private key itself never leaves this function.
 */
export function keyThumbprint(cryptoPath: string, daneId: string | undefined): string | undefined {
  if (daneId === undefined || daneId === '') return undefined
  try {
    const spki = createPublicKey(readPrivateKeyFile(identityPaths(cryptoPath, daneId).key)).export({ type: 'spki', format: 'der' })
    return createHash('sha256').update(spki).digest('hex')
  } catch {
    return undefined
  }
}

/** Public view of the status: settings with credentials redacted. */
export function statusResult(s: ProvisionStatus): Record<string, unknown> {
  const settings: Record<string, string> = {}
  for (const [k, v] of Object.entries(s.settings)) if (v !== undefined) settings[k] = redactValue(k, v)
  return { settings, identity: s.identity, keyType: s.record.keyType ?? null, dnsChecked: s.dnsChecked, finished: s.finished, next: s.next }
}

export function statusLines(s: ProvisionStatus): string[] {
  const r = statusResult(s)
  const lines = Object.entries(r.settings as Record<string, string>).map(([k, v]) => `  ${k}=${v}`)
  return [
    `identity: ${s.identity}${s.record.keyType === undefined ? '' : ` (${s.record.keyType})`}`,
    `dns check: ${s.dnsChecked ? 'passed' : 'not passed'}`,
    'settings:',
    ...lines,
    `next: ${s.next}`,
  ]
}
