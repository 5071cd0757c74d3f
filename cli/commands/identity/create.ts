/** `daneel identity create`: key + self-signed certificate (or CSR) under CRYPTO_PATH, idempotent, --force replaces. */

import { SETTINGS_HELP, SETTINGS_OPTIONS } from '../../../settings/settings.js'
import { formatTlsaZoneLine, makeTlsaRecord } from '../../../src/dane/tlsa.js'
import { DaneelError } from '../../../src/errors.js'
import { defaultTlsaParams, pkixCdCaUrl } from '../../../src/identity/present.js'
import { createIdentity } from '../../../src/identity/store.js'
import { isKeyTypeOption } from '../../../src/x509/keys.js'
import { parseOwnCommand } from '../../own-identity.js'

export const summary = 'make the key and a self-signed certificate (or --csr) under CRYPTO_PATH'

const HELP = `Usage: daneel identity create [--key-type p256|ed25519|rsa2048] [--days N] [--csr] [--force] [--json]

Creates the identity DANE_ID under CRYPTO_PATH: NAME.key.pem (PKCS#8, mode 0600, owner APP_UID) and a
self-signed NAME.crt.pem (CN and SAN = NAME), or with --csr a NAME.csr.pem for a CA to sign (then
'daneel identity install'). With NO_DNSSEC the certificate anchors its own PKIX-CD chain (CA:TRUE, pathLen 0).
An existing identity is left unchanged (and says so); --force replaces it. Prints the TLSA record to publish.

  --key-type TYPE   p256 (default), ed25519, or rsa2048 (the valimail profile)
  --days N          certificate validity in days (default 365)
  --csr             write a CSR instead of a self-signed certificate
  --force           replace an existing identity (new key: republish the TLSA record)
  --json            print the result as one JSON object

${SETTINGS_HELP}`

const OPTIONS = {
  ...SETTINGS_OPTIONS,
  'key-type': { type: 'string' },
  days: { type: 'string' },
  csr: { type: 'boolean' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
} as const

export async function run(argv: string[]): Promise<number> {
  const args = parseOwnCommand(argv, OPTIONS, HELP)
  if (args === undefined) return 0
  const { settings, me: name } = args
  const keyType = args.values['key-type'] ?? 'p256'
  if (!isKeyTypeOption(keyType)) throw new DaneelError('ERR_USAGE', `--key-type must be p256, ed25519 or rsa2048, not '${keyType}'`)
  const daysRaw = args.values.days
  if (daysRaw !== undefined && (!/^\d{1,5}$/.test(daysRaw) || Number(daysRaw) < 1 || Number(daysRaw) > 36500))
    throw new DaneelError('ERR_USAGE', `--days must be a whole number from 1 to 36500, not '${daysRaw}'`)
  const res = createIdentity({
    cryptoPath: settings.cryptoPath,
    daneId: name,
    keyType,
    ...(daysRaw === undefined ? {} : { days: Number(daysRaw) }),
    csr: args.values.csr === true,
    noDnssec: settings.noDnssec,
    uid: settings.appUid,
    force: args.values.force === true,
  })
  const p = defaultTlsaParams(settings.noDnssec)
  const zoneLine =
    res.cert === undefined ? undefined : formatTlsaZoneLine(res.name, makeTlsaRecord(res.cert, p.usage, p.selector, p.matchingType))
  if (args.values.json === true) {
    process.stdout.write(
      `${JSON.stringify({ created: res.created, completed: res.completed === true, name: res.name, keyType: res.keyType, key: res.paths.key, cert: res.cert === undefined ? null : res.paths.cert, csr: res.csrDer === undefined ? null : res.paths.csr, tlsa: zoneLine ?? null })}\n`,
    )
    return 0
  }
  const lines: string[] = []
  if (res.created) {
    lines.push(`created identity ${res.name} (${res.keyType})`, `  key:  ${res.paths.key}`)
    if (res.cert !== undefined)
      lines.push(
        `  cert: ${res.paths.cert} (self-signed, until ${new Date(res.cert.notAfter).toISOString()}${res.cert.basicConstraints?.ca === true ? ', CA:TRUE pathLen 0 for PKIX-CD' : ''})`,
      )
    if (res.csrDer !== undefined) lines.push(`  csr:  ${res.paths.csr} (have it signed, then: daneel identity install CERT)`)
  } else if (res.completed === true) {
    lines.push(
      `identity ${res.name} had a key but no ${res.cert === undefined ? 'CSR' : 'certificate'}; wrote ${res.cert === undefined ? res.paths.csr : res.paths.cert} for the existing key`,
    )
  } else {
    lines.push(`identity ${res.name} already exists in ${settings.cryptoPath}; unchanged (use --force to replace it)`)
  }
  if (zoneLine !== undefined) lines.push('publish:', zoneLine)
  // NO_DNSSEC: peers fetch the CA certificate over Web-PKI HTTPS (docs/contract.md "PKIX-CD"); a self-signed identity is its own CA
  const caUrl = settings.noDnssec && res.cert !== undefined ? pkixCdCaUrl(res.name, res.cert) : undefined
  if (caUrl !== undefined && res.cert?.basicConstraints?.ca === true) lines.push(`and serve ${res.paths.cert} at ${caUrl}`)
  process.stdout.write(`${lines.join('\n')}\n`)
  return 0
}
