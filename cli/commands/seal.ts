/** `daneel seal --to NAME`: seal stdin (a JSON reading or bytes) to a recipient as a nested JWT, and print it. */
import { openSequence, sequencePath } from '../../messaging/sequence.js'
import { peerDirectory } from '../../settings/peers.js'
import { SETTINGS_HELP, SETTINGS_OPTIONS } from '../../settings/settings.js'
import { getProvider } from '../../src/crypto/get-provider.js'
import { DaneelError } from '../../src/errors.js'
import { createLogger } from '../../src/log.js'
import { certificatesFromBytes, recipientSpkiFromCertificate } from '../../src/message/offline.js'
import { createSealer } from '../../src/message/seal.js'
import { normalizeName } from '../../src/message/x5u.js'
import { usageError } from '../args.js'
import { loadOwnKey, parseOwnCommand, readFileOrFail, readStdin } from '../own-identity.js'

export const summary = 'seal stdin to a recipient (JWS inside JWE) and write it to stdout'

const HELP = `Usage: daneel seal --to NAME [--cert FILE] [--key FILE] [--profile compact|valimail] [options] < reading

Signs stdin with our key (DANE_ID's) and encrypts it to NAME, writing one sealed message to stdout.
A JSON object on stdin is sealed as a reading (under the r claim, beside aud, iat and seq: a reading may carry
any member names, its own seq too);
anything else is sealed as bytes (the "b" claim), or with --raw (valimail only) as the bare payload.

  --to NAME            the recipient's identity name (required)
  --cert FILE          the recipient's certificate (PEM or DER; it must name NAME), for offline use;
                       without it the recipient's key is found in DNS (TLSA, DNSSEC-validated, or PKIX-CD)
  --key FILE           our private key (default CRYPTO_PATH/DANE_ID.key.pem)
  --profile P          compact (ES256/EdDSA + ECDH-ES/A256GCM) or valimail (RS256 + RSA-OAEP-256/A256CBC-HS512);
                       default: by the recipient's key. workshop: the DEF CON 29 workshop's form (valimail's
                       algorithms, stdin signed as it is, no claims, standard base64), for its decode.py
  --serialization S    compact or json (flattened JSON); default: the profile's
  --seq N              sequence number (default: the next from DANEEL_STATE, kept across runs)
  --iss                add an iss claim (the signed x5u already names us)
  --recipient-x5u      put the recipient's x5u in the JWE header (always there in valimail)
  --raw                valimail: sign stdin as it is, with no claims (for the original system's receivers)

${SETTINGS_HELP}`

const OPTIONS = {
  ...SETTINGS_OPTIONS,
  to: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  profile: { type: 'string' },
  serialization: { type: 'string' },
  seq: { type: 'string' },
  iss: { type: 'boolean' },
  'recipient-x5u': { type: 'boolean' },
  raw: { type: 'boolean' },
} as const

/** The largest reading we read from stdin: the sealed message must still fit MAX_MESSAGE_SIZE. */
const MAX_STDIN = 1024 * 1024

function pick<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined
  if (!(allowed as readonly string[]).includes(value))
    throw new DaneelError('ERR_USAGE', `${flag} must be ${allowed.join(' or ')}, not '${value}'`)
  return value as T
}

export async function run(argv: string[]): Promise<number> {
  const own = parseOwnCommand(argv, OPTIONS, HELP)
  if (own === undefined) return 0
  const { values, settings, me: sender } = own
  if (values.to === undefined) throw usageError(HELP, `--to NAME is required`)
  const profile = pick(values.profile, ['compact', 'valimail', 'workshop'] as const, '--profile')
  const serialization = pick(values.serialization, ['compact', 'json'] as const, '--serialization')
  const senderKey = loadOwnKey(settings, sender, values.key) // before any lookup
  let recipientSpki: Uint8Array
  if (values.cert !== undefined) {
    const [certDer] = certificatesFromBytes(readFileOrFail(values.cert, 'certificate'))
    recipientSpki = recipientSpkiFromCertificate(certDer as Uint8Array, values.to)
  } else {
    recipientSpki = (await peerDirectory(settings, createLogger({ name: 'seal' })).lookup(normalizeName(values.to))).spki
  }
  const sealer = createSealer({
    provider: getProvider(settings.cryptoProvider),
    senderName: sender,
    senderKey,
    recipientName: values.to,
    recipientSpki,
    ...(profile === undefined ? {} : { profile }),
    ...(serialization === undefined ? {} : { serialization }),
    includeIss: values.iss === true,
    recipientX5u: values['recipient-x5u'] === true,
    raw: values.raw === true,
  })
  const input = await readStdin(MAX_STDIN)
  let reading: object | Uint8Array = new Uint8Array(input)
  if (values.raw !== true && profile !== 'workshop') {
    try {
      const v: unknown = JSON.parse(input.toString('utf8'))
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) reading = v
    } catch {
      // not JSON: sealed as bytes
    }
  }
  let seq: number
  if (values.seq !== undefined) {
    if (!/^\d{1,15}$/.test(values.seq)) throw new DaneelError('ERR_USAGE', `--seq must be a whole number, not '${values.seq}'`)
    seq = Number(values.seq)
  } else {
    // The sender's own counter in DANEEL_STATE (shared with the device runtime), so a one-shot seal is never
    // taken for a replay of an earlier one.
    const store = openSequence(sequencePath(settings.stateDir, sender), 1)
    seq = store.next()
    store.close()
  }
  const sealed = sealer.seal(reading, { now: Date.now(), seq })
  if (Buffer.byteLength(sealed) > settings.maxMessageSize) {
    throw new DaneelError(
      'ERR_MESSAGE_TOO_LARGE',
      `the sealed message is ${Buffer.byteLength(sealed)} bytes, over MAX_MESSAGE_SIZE ${settings.maxMessageSize}`,
    )
  }
  process.stdout.write(`${sealed}\n`)
  return 0
}
