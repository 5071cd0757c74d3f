/** `daneel identity show`: the identity's name, key, certificate and TLSA records, as text or --json. */

import { SETTINGS_HELP, SETTINGS_OPTIONS } from '../../../settings/settings.js'
import { formatTlsaZoneLine, makeTlsaRecord } from '../../../src/dane/tlsa.js'
import { DIGEST_ONLY_NOTE, defaultTlsaParams, pkixCdCaUrl } from '../../../src/identity/present.js'
import { loadIdentity } from '../../../src/identity/store.js'
import { toHex } from '../../../src/x509/hex.js'
import { parseOwnCommand } from '../../own-identity.js'

export const summary = 'show the identity: name, key, certificate, TLSA records'

const HELP = `Usage: daneel identity show [--json]

Shows the identity DANE_ID under CRYPTO_PATH: key type and file, certificate (subject, SAN, issuer, validity,
CA flag, SKI/AKI), the TLSA records to publish (full certificate and SPKI SHA2-256), and with NO_DNSSEC the
PKIX-CD CA URL. Never prints key material.

${SETTINGS_HELP}`

const OPTIONS = { ...SETTINGS_OPTIONS, json: { type: 'boolean' } } as const

export async function run(argv: string[]): Promise<number> {
  const args = parseOwnCommand(argv, OPTIONS, HELP)
  if (args === undefined) return 0
  const { settings } = args
  const id = loadIdentity(settings.cryptoPath, args.me)
  const c = id.cert
  const d = defaultTlsaParams(settings.noDnssec)
  // The full record is what to publish; the digest is shown with what it can and cannot do (as `identity check` says it).
  const records = c === undefined ? [] : [formatTlsaZoneLine(id.name, makeTlsaRecord(c, d.usage, 0, 0))]
  const digest = c === undefined ? undefined : formatTlsaZoneLine(id.name, makeTlsaRecord(c, d.usage, 1, 1))
  const caUrl = c !== undefined && settings.noDnssec ? pkixCdCaUrl(id.name, c) : undefined
  const info = {
    name: id.name,
    keyType: id.keyType,
    key: id.paths.key,
    cert:
      c === undefined
        ? null
        : {
            file: id.paths.cert,
            subject: c.subject,
            dnsNames: c.dnsNames,
            issuer: c.issuer,
            selfSigned: c.subject === c.issuer,
            serial: c.serialHex,
            notBefore: new Date(c.notBefore).toISOString(),
            notAfter: new Date(c.notAfter).toISOString(),
            expired: Date.now() > c.notAfter,
            ca: c.basicConstraints?.ca === true,
            pathLen: c.basicConstraints?.pathLen ?? null,
            keyUsage: c.keyUsage === undefined ? null : [...c.keyUsage],
            ski: c.ski === undefined ? null : toHex(c.ski, ':'),
            aki: c.aki === undefined ? null : toHex(c.aki, ':'),
            signatureAlgorithm: c.signatureAlgorithm.name,
            chain: id.chain?.length ?? 1,
          },
    csr: id.csrDer === undefined ? null : id.paths.csr,
    tlsa: records,
    tlsaDigestOnly: digest === undefined ? null : { record: digest, note: DIGEST_ONLY_NOTE },
    pkixCdCaUrl: caUrl ?? null,
  }
  if (args.values.json === true) {
    process.stdout.write(`${JSON.stringify(info)}\n`)
    return 0
  }
  const lines = [`identity ${id.name}`, `  key:         ${id.keyType}  ${id.paths.key}`]
  if (info.cert === null) lines.push(`  certificate: none yet${info.csr === null ? '' : ` (CSR waiting: ${info.csr})`}`)
  else {
    const ic = info.cert
    lines.push(
      `  certificate: ${ic.file}`,
      `    subject    ${ic.subject}`,
      `    SAN        ${ic.dnsNames.join(', ') || '(none)'}`,
      `    issuer     ${ic.selfSigned ? '(self-signed)' : ic.issuer}`,
      `    valid      ${ic.notBefore} .. ${ic.notAfter}${ic.expired ? '  EXPIRED' : ''}`,
      `    CA         ${ic.ca ? `TRUE${ic.pathLen === null ? '' : `, pathLen ${ic.pathLen}`}` : 'FALSE'}`,
      `    key usage  ${ic.keyUsage?.join(', ') ?? '(any)'}`,
      `    SKI        ${ic.ski ?? '-'}`,
      `    AKI        ${ic.aki ?? '-'}`,
      `    signature  ${ic.signatureAlgorithm}`,
    )
  }
  if (records.length > 0) lines.push('  TLSA to publish:', ...records.map((r) => `    ${r}`))
  if (digest !== undefined) lines.push(`  digest only (${d.usage} 1 1), not enough on its own:`, `    ${digest}`, `    ${DIGEST_ONLY_NOTE}`)
  if (caUrl !== undefined) lines.push(`  PKIX-CD CA URL: ${caUrl}`)
  process.stdout.write(`${lines.join('\n')}\n`)
  return 0
}
