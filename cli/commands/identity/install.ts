/** `daneel identity install CERT`: install a CA-signed certificate after checking it carries our key and our name. */
import { requireDaneId, resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS } from '../../../settings/settings.js'
import { formatTlsaZoneLine, makeTlsaRecord } from '../../../src/dane/tlsa.js'
import { defaultTlsaParams } from '../../../src/identity/present.js'
import { installCertificate } from '../../../src/identity/store.js'
import { MAX_PEM_FILE_BYTES, readTextBounded } from '../../../src/read-file.js'
import { parseCommand, usageError } from '../../args.js'

export const summary = 'install a CA-signed certificate for this identity (checks key and name)'

const HELP = `Usage: daneel identity install CERT.pem [--json]

Installs CERT.pem (PEM; '-' reads stdin) as CRYPTO_PATH/DANE_ID.crt.pem, after checking that it carries the
identity's public key and names the identity (SAN dNSName). Chain certificates after the first are kept.
Nothing is written when a check fails. Prints the TLSA record to publish.

${SETTINGS_HELP}`

const OPTIONS = { ...SETTINGS_OPTIONS, json: { type: 'boolean' } } as const

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(argv, OPTIONS, HELP)
  if (args === undefined) return 0
  const [file, extra] = args.positionals
  if (file === undefined || extra !== undefined) throw usageError(HELP, `give exactly one certificate file`)
  const settings = resolveSettings(args.values, process.env)
  const name = requireDaneId(settings)
  const pem = readTextBounded(file === '-' ? 0 : file, { maxBytes: MAX_PEM_FILE_BYTES, what: 'certificate' })
  const res = installCertificate(settings.cryptoPath, name, pem, { uid: settings.appUid })
  // installed all the same (DANE-EE ignores dates), but PKIX and PKIX-CD peers will refuse it: say so
  const now = Date.now()
  if (now > res.cert.notAfter || now < res.cert.notBefore) {
    process.stderr.write(
      `daneel: warning: the certificate is ${now > res.cert.notAfter ? 'expired' : 'not valid yet'} (${new Date(res.cert.notBefore).toISOString()} .. ${new Date(res.cert.notAfter).toISOString()})\n`,
    )
  }
  const p = defaultTlsaParams(settings.noDnssec)
  const line = formatTlsaZoneLine(name, makeTlsaRecord(res.cert, p.usage, p.selector, p.matchingType))
  if (args.values.json === true) {
    process.stdout.write(
      `${JSON.stringify({ installed: true, replaced: res.replaced, name, subject: res.cert.subject, issuer: res.cert.issuer, notAfter: new Date(res.cert.notAfter).toISOString(), chain: res.chain.length, tlsa: line })}\n`,
    )
  } else {
    process.stdout.write(
      `installed certificate for ${name} (issuer ${res.cert.issuer || '(empty)'}, until ${new Date(res.cert.notAfter).toISOString()})${res.replaced ? ', replacing the previous one' : ''}\npublish:\n${line}\n`,
    )
  }
  return 0
}
