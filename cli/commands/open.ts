/** `daneel open`: open one sealed message from stdin, strictly, and print who sent it and what it says as JSON. */

import type { KeyObject } from 'node:crypto'
import { directoryResolver } from '../../messaging/receiver.js'
import { peerDirectory } from '../../settings/peers.js'
import { SETTINGS_HELP, SETTINGS_OPTIONS } from '../../settings/settings.js'
import { systemClock } from '../../src/clock.js'
import { getProvider } from '../../src/crypto/get-provider.js'
import { DaneelError, isDaneelError } from '../../src/errors.js'
import { decryptionKeys } from '../../src/identity/rollover.js'
import { createLogger } from '../../src/log.js'
import { certificateResolver, certificatesFromBytes } from '../../src/message/offline.js'
import { createOpener, type OpenerOptions } from '../../src/message/open.js'
import { createReplayWindow } from '../../src/message/replay.js'
import { loadOwnKey, parseOwnCommand, readFileOrFail, readStdin } from '../own-identity.js'

export const summary = 'open a sealed message from stdin and print what it says and who sent it'

const HELP = `Usage: daneel open [--cert FILE] [--key FILE] [options] < message

Decrypts a sealed message addressed to us (DANE_ID), checks the sender's signature, trusted domain, audience,
time and sequence, and prints one JSON object: from, claims (as received: aud, iat, seq, r), reading (the r
claim, or an older device's members beside the claims), or payload (bytes, base64url, and payloadText when it is
UTF-8), auth, profile, serialization. The output is always JSON (--json is accepted and changes nothing).
Exit 0 when the message is authentic; 1 when it is rejected (the error code is printed); 2 on bad usage or
unreadable input (a message over MAX_MESSAGE_SIZE included).

  --cert FILE        offline: the sender's certificate (PEM or DER; repeat, or put several in one file); the
                     sender named by the signed x5u must be a name in one of them. (--sender-cert is the same.)
                     Without it the sender's key is found in DNS through its x5u, after the TRUSTED_DOMAINS
                     check (DNSSEC-validated TLSA, or PKIX-CD), as \`daneel listen\` does.
  --key FILE         our private key (default CRYPTO_PATH/DANE_ID.key.pem)
  --max-age SECONDS  oldest accepted message (default 600)
  --max-skew SECONDS how far in the future a message may be dated (default 60)
  --allow-unbound    accept messages without claims (the original system's valimail payloads, the DEF CON 29
                     workshop's base64 messages) from every trusted sender: LEGACY_DOMAINS = TRUSTED_DOMAINS.
                     --legacy-domains LIST (LEGACY_DOMAINS) limits them to senders under LIST. Such messages
                     have no time or audience; one-shot \`open\` cannot refuse their replay (\`listen\` can)
  --json             accepted for uniformity: the output is always one JSON object

TRUSTED_DOMAINS (--trusted-domains) defaults, in the offline mode only, to the names in the given certificates.

${SETTINGS_HELP}`

const OPTIONS = {
  ...SETTINGS_OPTIONS,
  cert: { type: 'string', multiple: true },
  'sender-cert': { type: 'string', multiple: true },
  key: { type: 'string' },
  'max-age': { type: 'string' },
  'max-skew': { type: 'string' },
  'allow-unbound': { type: 'boolean' },
  json: { type: 'boolean' },
} as const

function seconds(value: string | undefined, flag: string, dflt: number): number {
  if (value === undefined) return dflt * 1000
  if (!/^\d{1,9}$/.test(value)) throw new DaneelError('ERR_USAGE', `${flag} must be a whole number of seconds, not '${value}'`)
  return Number(value) * 1000
}

export async function run(argv: string[]): Promise<number> {
  const own = parseOwnCommand(argv, OPTIONS, HELP)
  if (own === undefined) return 0
  const { values, settings, me } = own
  const certFiles = [...(values.cert ?? []), ...(values['sender-cert'] ?? [])]
  const recipientKey = loadOwnKey(settings, me, values.key)
  let resolveSender: OpenerOptions['resolveSender']
  let trustedDomains = settings.trustedDomains
  let recipientKeys: KeyObject[] = []
  if (certFiles.length > 0) {
    const offline = certificateResolver(certFiles.flatMap((f) => certificatesFromBytes(readFileOrFail(f, 'certificate'))))
    resolveSender = offline.resolve
    if (trustedDomains.length === 0) trustedDomains = offline.names
  } else {
    if (trustedDomains.length === 0)
      throw new DaneelError('ERR_USAGE', 'open without --cert looks senders up in DNS: set TRUSTED_DOMAINS (or --trusted-domains)')
    resolveSender = directoryResolver(peerDirectory(settings, createLogger({ name: 'open' })), trustedDomains)
    // during our own key rollover, peers may encrypt to the next or the previous key too
    if (values.key === undefined) recipientKeys = decryptionKeys(settings.cryptoPath, me).slice(1)
  }
  const opener = createOpener({
    provider: getProvider(settings.cryptoProvider),
    recipientName: me,
    recipientKey,
    recipientKeys,
    resolveSender,
    trustedDomains,
    maxMessageSize: settings.maxMessageSize,
    clock: systemClock,
    maxAgeMs: seconds(values['max-age'], '--max-age', 600),
    maxSkewMs: seconds(values['max-skew'], '--max-skew', 60),
    // One message per run: an in-memory window is all a one-shot command can keep (`daneel listen` keeps a durable one).
    replay: createReplayWindow(),
    allowUnbound: values['allow-unbound'] === true,
    legacyDomains: settings.legacyDomains,
  })
  // Read one byte past the cap so an oversized message is reported as such by the opener.
  const input = (await readStdin(settings.maxMessageSize + 2)).toString('latin1').replace(/\r?\n$/, '')
  try {
    const m = await opener.open(input)
    const out: Record<string, unknown> = { from: m.from }
    if (m.claims !== undefined) out.claims = m.claims
    if (m.digest !== undefined) out.bound = false
    if (m.reading !== undefined) out.reading = m.reading
    if (m.payload !== undefined) {
      out.payload = Buffer.from(m.payload).toString('base64url')
      const text = Buffer.from(m.payload).toString('utf8')
      if (!text.includes('\uFFFD')) out.payloadText = text
    }
    Object.assign(out, { auth: m.auth, profile: m.profile, serialization: m.serialization })
    process.stdout.write(`${JSON.stringify(out)}\n`)
    return 0
  } catch (err) {
    // A rejected message is a failed check (exit 1) whatever its code; only one too large to read is bad input (2).
    if (!isDaneelError(err) || err.code === 'ERR_MESSAGE_TOO_LARGE') throw err
    process.stderr.write(`daneel: rejected: ${err.message} [${err.code}]\n`)
    if (process.env.DANEEL_DEBUG === '1' && err.cause !== undefined) process.stderr.write(`  cause: ${String(err.cause)}\n`)
    return 1
  }
}
