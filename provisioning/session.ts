/** The provisioning state machine: one request in, one reply out; every step persists atomically before it replies. */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { DaneelError, isDaneelError } from '../src/errors.js'
import { ensureDir, fsyncDir } from '../src/fsutil.js'
import { MAX_PEM_FILE_BYTES, readTextBounded } from '../src/read-file.js'
import { checkValue, type EnvSettings, readEnvFile, redactValue, settableKey, writeEnvFile } from './env-file.js'
import { HELP_LINES, type IdentityOps, keyThumbprint, PROTOCOL, type Reply, type Request, statusLines, statusResult } from './messages.js'
import {
  certFingerprint,
  ENV_FILE,
  identityPaths,
  type KeyType,
  markFinished,
  type ProvisionStatus,
  readRecord,
  readStatus,
  writeRecord,
} from './state.js'

export type { IdentityOps, Reply, Request } from './messages.js'

export interface SessionOptions {
  cryptoPath: string
  uid?: number | undefined
  identity: IdentityOps
  /** Validates the would-be settings as a whole (the CLI passes resolveSettings); throws ERR_CONFIG_INVALID. */
  validate?: (settings: EnvSettings) => void
  now?: () => Date
}

const TRUE = /^(1|true|yes|on)$/i
/** `check wait` on the line gives up after 15 minutes (a TLSA record with a 3600 s negative TTL needs `check` again later). */
const CHECK_WAIT_LIMIT_S = 900

export class ProvisionSession {
  readonly #o: SessionOptions
  constructor(o: SessionOptions) {
    this.#o = o
    ensureDir(o.cryptoPath, 0o700)
  }

  status(): ProvisionStatus {
    return readStatus(this.#o.cryptoPath)
  }

  /** Handles one request; errors become replies (the line stays up), never exceptions. */
  async handle(req: Request): Promise<Reply> {
    try {
      return await this.#dispatch(req)
    } catch (err) {
      const code = isDaneelError(err) ? err.code : 'ERR_PROVISION'
      const message = isDaneelError(err) ? err.message : 'internal error (see the device log)'
      if (!isDaneelError(err)) process.stderr.write(`daneel provision: ${String((err as Error)?.stack ?? err)}\n`)
      return { ok: false, error: { code, message } }
    }
  }

  async #dispatch(req: Request): Promise<Reply> {
    const { cryptoPath } = this.#o
    switch (req.op) {
      case 'hello':
      case 'status': {
        const s = this.status()
        const thumb = keyThumbprint(cryptoPath, s.settings.DANE_ID)
        const extra = thumb === undefined ? [] : [`key: SHA-256 of the public key ${thumb}`]
        return {
          ok: true,
          result: { v: 1, protocol: PROTOCOL, ...statusResult(s), keyThumbprint: thumb ?? null },
          lines: [...statusLines(s), ...extra],
        }
      }
      case 'help':
        return { ok: true, lines: HELP_LINES }
      case 'quit':
        return { ok: true, lines: ['bye: provisioning is not finished; it resumes where it left off'], end: true }
      case 'set':
        return this.#set(req.values)
      case 'unset':
        return this.#set(Object.fromEntries(req.keys.map((k) => [k, ''])))
      case 'create':
        return this.#create(req)
      case 'tlsa':
        return this.#tlsa()
      case 'csr': {
        const { daneId } = this.#requireSettings()
        const st = this.status()
        if (st.identity !== 'csr' && !(st.identity === 'certificate' && st.record.csr === true)) {
          throw new DaneelError('ERR_PROVISION', 'no CSR: this identity is self-signed (create csr force to make a CSR instead)')
        }
        const pem = readTextBounded(identityPaths(cryptoPath, daneId).csr, { maxBytes: MAX_PEM_FILE_BYTES, what: 'CSR' }).trim()
        return { ok: true, result: { csr: pem }, lines: pem.split('\n') }
      }
      case 'install': {
        const { daneId } = this.#requireSettings()
        if (this.status().identity === 'none') throw new DaneelError('ERR_IDENTITY_MISSING', 'create the identity first')
        await this.#o.identity.install({ cryptoPath, daneId, pem: req.pem, uid: this.#o.uid })
        return this.#tlsa(['certificate installed'])
      }
      case 'check':
        return this.#check(req.wait === true)
      case 'finish':
        return this.#finish(req.force === true)
    }
  }

  #requireSettings(): { daneId: string; settings: EnvSettings } {
    const settings = readEnvFile(join(this.#o.cryptoPath, ENV_FILE))
    const daneId = settings.DANE_ID
    if (daneId === undefined || daneId === '') throw new DaneelError('ERR_PROVISION', 'set DANE_ID first')
    return { daneId, settings }
  }

  #set(values: Record<string, string>): Reply {
    const { cryptoPath } = this.#o
    const before = this.status()
    const next: EnvSettings = { ...before.settings }
    const changed: string[] = []
    for (const [rawKey, rawValue] of Object.entries(values)) {
      const key = settableKey(rawKey)
      const value = checkValue(key, rawValue)
      if (key === 'DANE_ID' && before.identity !== 'none' && value.toLowerCase().replace(/\.$/, '') !== before.settings.DANE_ID) {
        throw new DaneelError('ERR_PROVISION', `an identity already exists for ${before.settings.DANE_ID}; DANE_ID cannot change now`)
      }
      if (before.finished) throw new DaneelError('ERR_PROVISION', 'provisioning is finished; change settings in the environment file')
      if (value === '') delete next[key]
      else next[key] = key === 'DANE_ID' ? value.toLowerCase().replace(/\.$/, '') : value
      changed.push(`${key}=${value === '' ? '(unset)' : redactValue(key, value)}`)
    }
    try {
      this.#o.validate?.(next)
    } catch (err) {
      // Validation messages quote the bad value; a broker URL's credentials must not go back over the line.
      if (!isDaneelError(err)) throw err
      let message = err.message
      for (const [k, v] of Object.entries(next))
        if (v !== undefined && redactValue(k, v) !== v) message = message.split(v).join(redactValue(k, v))
      throw new DaneelError(err.code, message)
    }
    writeEnvFile(join(cryptoPath, ENV_FILE), next, this.#o.uid)
    const s = this.status()
    return { ok: true, result: { changed, next: s.next }, lines: [...changed.map((c) => `set ${c}`), `next: ${s.next}`] }
  }

  async #create(req: { keyType?: KeyType; csr?: boolean; force?: boolean }): Promise<Reply> {
    const { cryptoPath, uid } = this.#o
    const { daneId, settings } = this.#requireSettings()
    const before = this.status()
    if (before.finished) throw new DaneelError('ERR_PROVISION', 'provisioning is finished; use daneel identity rotate to change keys')
    const keyType = req.keyType ?? before.record.keyType ?? 'p256'
    const csr = req.csr === true
    if ((before.identity === 'csr' || before.identity === 'certificate') && req.force !== true) {
      const lines = [`identity exists (${before.identity}); unchanged (create force replaces it)`]
      return { ok: true, result: { created: false, identity: before.identity }, lines }
    }
    // Record the choice first: a power cut during key generation then resumes with the same choice.
    // Any earlier DNS check was for another certificate, so the record starts afresh.
    writeRecord(cryptoPath, { v: 1, keyType, csr }, uid)
    // The certificate and CSR go first: the key is then replaced (atomically) and its new certificate or CSR
    // written after it, so a power cut anywhere leaves either a key alone ('partial', replaced on the next
    // create: nothing was published from it) or a matching pair, never a new key beside the old key's certificate.
    const p = identityPaths(cryptoPath, daneId)
    rmSync(p.crt, { force: true })
    rmSync(p.csr, { force: true })
    fsyncDir(cryptoPath)
    const noDnssec = TRUE.test(settings.NO_DNSSEC ?? '')
    await this.#o.identity.create({ cryptoPath, daneId, keyType, csr, noDnssec, uid, force: true })
    if (csr) {
      return {
        ok: true,
        result: { created: true, identity: 'csr' },
        lines: [`created ${keyType} key and CSR for ${daneId}`, 'next: csr (send it to your CA), then install'],
      }
    }
    return this.#tlsa([`created ${keyType} key and self-signed certificate for ${daneId}`])
  }

  async #tlsa(prefix: string[] = []): Promise<Reply> {
    const { cryptoPath } = this.#o
    const { daneId, settings } = this.#requireSettings()
    if (this.status().identity !== 'certificate')
      throw new DaneelError('ERR_PROVISION', 'no certificate yet: create (or install the CA-signed one) first')
    const noDnssec = TRUE.test(settings.NO_DNSSEC ?? '')
    const tlsa = await this.#o.identity.tlsa({ cryptoPath, daneId, noDnssec })
    const url = noDnssec ? await this.#o.identity.pkixCdUrl({ cryptoPath, daneId }) : undefined
    const lines = [...prefix, 'publish:', ...tlsa]
    if (url !== undefined) lines.push(`and serve the CA certificate at ${url}`)
    return { ok: true, result: { tlsa, ...(url === undefined ? {} : { pkixCdUrl: url }) }, lines }
  }

  async #check(wait: boolean): Promise<Reply> {
    const { cryptoPath, uid } = this.#o
    const { settings } = this.#requireSettings()
    const st = this.status()
    if (st.identity !== 'certificate') throw new DaneelError('ERR_PROVISION', 'no certificate yet: nothing to check')
    const crt = identityPaths(cryptoPath, settings.DANE_ID as string).crt
    const fp = certFingerprint(crt)
    // Bounded on the line: requests run one at a time, so an endless wait would freeze the console.
    const res = await this.#o.identity.check({ cryptoPath, settings, wait, waitLimitS: CHECK_WAIT_LIMIT_S })
    if (res.ok && fp !== undefined) {
      writeRecord(
        cryptoPath,
        { ...readRecord(cryptoPath), dnsCheck: { at: (this.#o.now?.() ?? new Date()).toISOString(), certSha256: fp } },
        uid,
      )
    }
    return {
      ok: res.ok,
      result: { matched: res.ok },
      lines: res.lines,
      ...(res.ok ? {} : { error: { code: 'ERR_TLSA_NO_MATCH', message: 'the published identity does not match yet' } }),
    }
  }

  #finish(force: boolean): Reply {
    const { cryptoPath } = this.#o
    const s = this.status()
    if (s.finished) return { ok: true, result: { finished: true }, lines: ['already finished'], end: true }
    const daneId = s.settings.DANE_ID
    if (daneId === undefined || s.next === 'set') throw new DaneelError('ERR_PROVISION', 'set DANE_ID and the broker first')
    if (s.identity !== 'certificate') throw new DaneelError('ERR_PROVISION', 'no certificate yet: create (or install) first')
    if (!s.dnsChecked && !force) throw new DaneelError('ERR_PROVISION', 'the DNS self-check has not passed: check, or finish force')
    markFinished(cryptoPath, daneId)
    return { ok: true, result: { finished: true, dnsChecked: s.dnsChecked }, lines: [`provisioning finished for ${daneId}`], end: true }
  }
}
