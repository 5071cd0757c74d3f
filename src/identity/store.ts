/** The identity on disk (docs/contract.md "Files"): ${CRYPTO_PATH}/${DANE_ID}.key.pem (0600, APP_UID), .crt.pem, .csr.pem. */
import type { KeyObject } from 'node:crypto'
import { accessSync, constants, existsSync, mkdirSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { certificateMatchesName } from '../dane/cert-name.js'
import { parseIdentityName } from '../dane/names.js'
import { DaneelError } from '../errors.js'
import { writeFileAtomic, writeFilesAtomic } from '../fsutil.js'
import { readPrivateKeyFile } from '../key-file.js'
import { MAX_PEM_FILE_BYTES, readTextBounded } from '../read-file.js'
import { buildSelfSignedCertificate } from '../x509/build.js'
import { type Certificate, parseCertificate } from '../x509/cert.js'
import { buildCsr } from '../x509/csr.js'
import {
  generateKeyPair,
  isKeyTypeOption,
  type KeyTypeOption,
  keyMatchesCertificate,
  keyTypeOptionOf,
  loadPrivateKey,
  privateKeyToPkcs8Pem,
} from '../x509/keys.js'
import { pemDecode, pemEncode } from '../x509/pem.js'
import { readKeyPair } from './pair.js'

export interface IdentityPaths {
  readonly key: string
  readonly cert: string
  readonly csr: string
}

/** The three file paths of an identity. */
export function identityPaths(cryptoPath: string, daneId: string): IdentityPaths {
  const base = join(cryptoPath, parseIdentityName(daneId))
  return { key: `${base}.key.pem`, cert: `${base}.crt.pem`, csr: `${base}.csr.pem` }
}

export interface CreateIdentityOptions {
  cryptoPath: string
  daneId: string
  keyType?: KeyTypeOption
  /** Certificate validity in days (default 365). */
  days?: number
  /** Write a CSR for a CA to sign instead of a self-signed certificate. */
  csr?: boolean
  /** NO_DNSSEC: the self-signed identity anchors its own PKIX-CD chain (CA:TRUE, pathLen 0, keyCertSign). */
  noDnssec?: boolean
  /** Owner of the written files (APP_UID). */
  uid?: number | undefined
  /** Replace an existing identity. */
  force?: boolean
  now?: number
}

export interface CreateIdentityResult {
  /** False when an identity was already there and nothing changed. */
  created: boolean
  /** The key was there but its certificate (or CSR) was not, e.g. after a power cut mid-create: now it is. */
  completed?: boolean
  name: string
  paths: IdentityPaths
  keyType: KeyTypeOption
  cert?: Certificate
  csrDer?: Uint8Array
}

/**
 * Creates an identity: a key and a self-signed certificate (or a CSR). Idempotent: an existing key is left alone
 * unless `force`. Everything is built in memory first, then written atomically, key first, so a failure (say an
 * unwritable CRYPTO_PATH) leaves nothing new behind.
 */
export function createIdentity(opts: CreateIdentityOptions): CreateIdentityResult {
  const name = parseIdentityName(opts.daneId)
  const keyType = opts.keyType ?? 'p256'
  if (!isKeyTypeOption(keyType)) throw new TypeError(`key type must be p256, ed25519 or rsa2048, not '${String(keyType)}'`)
  const paths = identityPaths(opts.cryptoPath, name)
  if (existsSync(paths.key) && opts.force !== true) {
    const existing = loadIdentity(opts.cryptoPath, name)
    if (existing.cert === undefined && existing.csrDer === undefined) return completeIdentity(existing, opts)
    return {
      created: false,
      name,
      paths,
      keyType: existing.keyType,
      ...(existing.cert === undefined ? {} : { cert: existing.cert }),
      ...(existing.csrDer === undefined ? {} : { csrDer: existing.csrDer }),
    }
  }
  const { privateKey } = generateKeyPair(keyType)
  const keyPem = privateKeyToPkcs8Pem(privateKey)
  const ca = opts.noDnssec === true
  let cert: Certificate | undefined
  let csrDer: Uint8Array | undefined
  if (opts.csr === true) csrDer = buildCsr({ name, key: privateKey, ca })
  else
    cert = parseCertificate(
      buildSelfSignedCertificate({
        name,
        key: privateKey,
        ca,
        ...(opts.days === undefined ? {} : { days: opts.days }),
        ...(opts.now === undefined ? {} : { now: opts.now }),
      }),
    )

  makeDirs(opts.cryptoPath)
  // Key and certificate (or CSR) are written first and renamed back to back (writeFilesAtomic): a failed write
  // leaves the old pair, and a device reading its identity meanwhile sees a matching pair (src/identity/pair.ts).
  writeFilesAtomic(
    [
      { path: paths.key, data: keyPem, mode: 0o600 },
      cert !== undefined
        ? { path: paths.cert, data: pemEncode(cert.der, 'CERTIFICATE'), mode: 0o644 }
        : { path: paths.csr, data: pemEncode(csrDer as Uint8Array, 'CERTIFICATE REQUEST'), mode: 0o644 },
    ],
    { uid: opts.uid },
  )
  // a replaced key makes the other file stale: a certificate or CSR for the old key must not linger
  if (cert !== undefined) rmSync(paths.csr, { force: true })
  if (csrDer !== undefined) rmSync(paths.cert, { force: true })
  return { created: true, name, paths, keyType, ...(cert === undefined ? {} : { cert }), ...(csrDer === undefined ? {} : { csrDer }) }
}

/** Writes the missing certificate (or CSR) for an existing key; the key itself is never touched. */
function completeIdentity(id: LoadedIdentity, opts: CreateIdentityOptions): CreateIdentityResult {
  const ca = opts.noDnssec === true
  const base = { created: false, completed: true, name: id.name, paths: id.paths, keyType: id.keyType }
  if (opts.csr === true) {
    const csrDer = buildCsr({ name: id.name, key: id.privateKey, ca })
    writeFileAtomic(id.paths.csr, pemEncode(csrDer, 'CERTIFICATE REQUEST'), { mode: 0o644, uid: opts.uid })
    return { ...base, csrDer }
  }
  const der = buildSelfSignedCertificate({
    name: id.name,
    key: id.privateKey,
    ca,
    ...(opts.days === undefined ? {} : { days: opts.days }),
    ...(opts.now === undefined ? {} : { now: opts.now }),
  })
  writeFileAtomic(id.paths.cert, pemEncode(der, 'CERTIFICATE'), { mode: 0o644, uid: opts.uid })
  return { ...base, cert: parseCertificate(der) }
}

export interface LoadedIdentity {
  name: string
  paths: IdentityPaths
  privateKey: KeyObject
  keyType: KeyTypeOption
  /** The identity certificate (first block of .crt.pem) and any chain certificates after it. */
  cert?: Certificate
  certDer?: Uint8Array
  chain?: Certificate[]
  csrDer?: Uint8Array
}

const readText = (path: string, what: string): string => readTextBounded(path, { maxBytes: MAX_PEM_FILE_BYTES, what })

/** The usual cause of EACCES here: a volume the original identity-manager wrote as root (README "Migrating"). */
const OWNER_ADVICE =
  ' (owned by another user, e.g. root after the original identity-manager: hand it to APP_UID with scripts/adopt-identity.sh, which the block runs when started once as root)'

/** ERR_IDENTITY_MISSING without a key file; ERR_IO with the ownership advice when the folder itself is unreadable. */
function requireKeyFile(cryptoPath: string, name: string, paths: IdentityPaths): void {
  if (existsSync(paths.key)) return
  try {
    accessSync(cryptoPath, constants.X_OK)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EACCES')
      throw new DaneelError('ERR_IO', `cannot read ${cryptoPath}: EACCES${OWNER_ADVICE}`, { cause: err })
  }
  throw new DaneelError('ERR_IDENTITY_MISSING', `no identity ${name} in ${cryptoPath} (run: daneel identity create)`)
}

/** Loads the key and, when present, the certificate (checked against the key) and CSR. ERR_IDENTITY_MISSING without a key. */
export function loadIdentity(cryptoPath: string, daneId: string): LoadedIdentity {
  const name = parseIdentityName(daneId)
  const paths = identityPaths(cryptoPath, name)
  requireKeyFile(cryptoPath, name, paths)
  // key and certificate as one pair: a rotation in progress is waited out, never seen half done
  const pair = readKeyPair(paths.key, paths.cert)
  if (pair === undefined)
    throw new DaneelError('ERR_IDENTITY_MISSING', `no identity ${name} in ${cryptoPath} (run: daneel identity create)`)
  const privateKey = pair.key
  const out: LoadedIdentity = { name, paths, privateKey, keyType: keyTypeOptionOf(privateKey) }
  if (pair.chain !== undefined) {
    const cert = pair.chain[0] as Certificate
    out.cert = cert
    out.certDer = cert.der
    out.chain = pair.chain
  }
  if (existsSync(paths.csr)) out.csrDer = pemDecode(readText(paths.csr, 'CSR'), 'CERTIFICATE REQUEST')[0] as Uint8Array
  return out
}

/**
 * Installs a CA-signed (or externally made) certificate: it must carry this identity's key and name it (SAN dNSName,
 * or CN without SAN). Chain certificates after the first are kept. ERR_KEY_MISMATCH / ERR_CERT_NAME_MISMATCH.
 */
export function installCertificate(
  cryptoPath: string,
  daneId: string,
  certPem: string,
  opts: { uid?: number | undefined } = {},
): { cert: Certificate; chain: Certificate[]; replaced: boolean } {
  const id = loadIdentityKeyOnly(cryptoPath, daneId)
  let ders: Uint8Array[]
  try {
    ders = pemDecode(certPem, 'CERTIFICATE')
  } catch (err) {
    throw new DaneelError('ERR_CERT_INVALID', 'no CERTIFICATE block in the file to install', { cause: err })
  }
  const chain = ders.map(parseCertificate)
  const cert = chain[0] as Certificate
  if (!keyMatchesCertificate(id.privateKey, cert))
    throw new DaneelError('ERR_KEY_MISMATCH', `the certificate does not carry the key of ${id.name}`)
  if (!certificateMatchesName(cert, id.name))
    throw new DaneelError(
      'ERR_CERT_NAME_MISMATCH',
      `the certificate names ${cert.dnsNames.join(', ') || cert.subjectCN || 'nothing'}, not ${id.name}`,
    )
  const replaced = existsSync(id.paths.cert)
  writeFileAtomic(id.paths.cert, chain.map((c) => pemEncode(c.der, 'CERTIFICATE')).join(''), { mode: 0o644, uid: opts.uid })
  return { cert, chain, replaced }
}

function loadIdentityKeyOnly(cryptoPath: string, daneId: string): { name: string; paths: IdentityPaths; privateKey: KeyObject } {
  const name = parseIdentityName(daneId)
  const paths = identityPaths(cryptoPath, name)
  requireKeyFile(cryptoPath, name, paths)
  return { name, paths, privateKey: loadPrivateKey(readPrivateKeyFile(paths.key)) }
}

/**
 * mkdir -p without `recursive: true`: Node 20's recursive mkdirSync spins forever under /proc (measured: a
 * `--crypto-path /proc/x` create never returned), so we create each missing ancestor ourselves.
 */
function makeDirs(dir: string): void {
  const missing: string[] = []
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d)
    if (dirname(d) === d) break
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: 0o755 })
    } catch (err) {
      throw new DaneelError('ERR_IO', `cannot create ${d}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        cause: err,
      })
    }
  }
}
