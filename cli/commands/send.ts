/** `daneel send NAME MESSAGE|-`: seal to NAME (key found in DNS), publish on topic NAME at QoS 1, wait for the PUBACKs. */
import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'
import { MqttLink } from '../../messaging/mqtt.js'
import { MemoryOutbox } from '../../messaging/outbox/memory.js'
import { OutboxSender } from '../../messaging/sender.js'
import { openSequence, sequencePath } from '../../messaging/sequence.js'
import { peerDirectory } from '../../settings/peers.js'
import { requireDaneId, resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS, topicFor } from '../../settings/settings.js'
import { getProvider } from '../../src/crypto/get-provider.js'
import { DaneelError } from '../../src/errors.js'
import { loadIdentity } from '../../src/identity/store.js'
import { createLogger } from '../../src/log.js'
import { createSealer } from '../../src/message/seal.js'
import { normalizeName } from '../../src/message/x5u.js'
import { parseCommand, usageError } from '../args.js'
import { MQTT_HELP, MQTT_OPTIONS, mqttOptions, wholeNumber } from './listen.js'

export const summary = 'publish one sealed message to a recipient over MQTT'

const HELP = `Usage: daneel send NAME MESSAGE|- [--profile compact|valimail|workshop] [--raw] [--timeout SECONDS] [options]

Seals MESSAGE with our key (DANE_ID) to NAME, whose key is found in DNS (validated TLSA; PKIX-CD when the zone
is insecure or NO_DNSSEC), and publishes it on topic NAME (GROUP_NAME/NAME with --group-name) at QoS 1. Exits 0 once the broker acknowledged it
(PUBACK), 1 if it did not within --timeout. A JSON object MESSAGE is sealed as a reading (the r claim, beside
aud, iat and seq); anything else as bytes. The sequence number comes from DANEEL_STATE. Prints one JSON object
{to, seq, profile, auth} (always JSON; --json is accepted and changes nothing).
With MESSAGE '-', every line of stdin is one message, each sealed with the next sequence number and sent over
one connection; exits 0 once every one was acknowledged (--timeout counts from the end of stdin).

  --profile P        compact or valimail (default: by the recipient's key; valimail for the original system);
                     workshop: the DEF CON 29 workshop's form (MESSAGE signed as it is, no claims)
  --raw              valimail: sign MESSAGE as it is, with no claims (what the original system's receivers read)
  --timeout SECONDS  how long to wait for the broker (default 30)
  --json             accepted for uniformity: the output is always JSON

${MQTT_HELP}

${SETTINGS_HELP}`

/** Messages read from stdin and not yet acknowledged, at most (the memory outbox would drop the oldest past 10,000). */
const STDIN_WINDOW = 1000

const OPTIONS = {
  ...SETTINGS_OPTIONS,
  ...MQTT_OPTIONS,
  profile: { type: 'string' },
  raw: { type: 'boolean' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
} as const

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, HELP)
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  if (positionals.length !== 2) throw usageError(HELP, `send needs NAME and MESSAGE`)
  const [nameArg, message] = positionals as [string, string]
  const profile = values.profile
  if (profile !== undefined && profile !== 'compact' && profile !== 'valimail' && profile !== 'workshop')
    throw new DaneelError('ERR_USAGE', `--profile must be compact, valimail or workshop, not '${profile}'`)
  if (values.raw === true && profile !== 'valimail') throw new DaneelError('ERR_USAGE', '--raw needs --profile valimail')
  const timeoutMs = wholeNumber(values.timeout, '--timeout', 30) * 1000
  const settings = resolveSettings(values, process.env)
  const sender = requireDaneId(settings)
  const recipient = normalizeName(nameArg)
  const log = createLogger({ name: 'send' })

  const senderKey = loadIdentity(settings.cryptoPath, sender).privateKey // before any lookup or state written
  const peer = await peerDirectory(settings, log).lookup(recipient)
  const sealer = createSealer({
    provider: getProvider(settings.cryptoProvider),
    senderName: sender,
    senderKey,
    recipientName: recipient,
    recipientSpki: peer.spki,
    ...(profile === undefined ? {} : { profile }),
    raw: values.raw === true,
  })
  const toReading = (text: string): object | Uint8Array => {
    if (values.raw !== true && profile !== 'workshop') {
      try {
        const v: unknown = JSON.parse(text)
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v
      } catch {
        // not JSON: sealed as bytes
      }
    }
    return Buffer.from(text, 'utf8')
  }
  // From stdin, numbers are reserved in blocks (one fsync per block; a clean close writes back the exact next one).
  const sequence = openSequence(sequencePath(settings.stateDir, sender), message === '-' ? 64 : 1, { logger: log })
  const seal = (text: string): { sealed: Buffer; seq: number } => {
    const seq = sequence.next()
    const sealed = Buffer.from(sealer.seal(toReading(text), { now: Date.now(), seq }))
    if (sealed.length > settings.maxMessageSize) {
      throw new DaneelError(
        'ERR_MESSAGE_TOO_LARGE',
        `the sealed message (seq ${seq}) is ${sealed.length} bytes, over MAX_MESSAGE_SIZE ${settings.maxMessageSize}`,
      )
    }
    return { sealed, seq }
  }

  // An in-memory outbox and a clean session (nothing for the broker to keep after we exit).
  const outbox = new MemoryOutbox()
  const clientId = `daneel-send-${createHash('sha256').update(`${sender}:${process.pid}:${Date.now()}`).digest('hex').slice(0, 12)}`
  const link = new MqttLink({ ...mqttOptions(settings, values, process.env), clientId, sessionExpirySeconds: 0, logger: log })
  const drainer = new OutboxSender(link, outbox, { window: message === '-' ? 20 : 1 })
  let first: number | undefined
  let last: number | undefined
  let count = 0
  let bytes = 0
  try {
    if (message !== '-') {
      const { sealed, seq } = seal(message)
      first = last = seq
      count = 1
      bytes = sealed.length
      await outbox.append(topicFor(settings, recipient), sealed)
      link.start()
    } else {
      link.start()
      for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
        if (line === '') continue
        const { sealed, seq } = seal(line)
        first ??= seq
        last = seq
        count++
        bytes += sealed.length
        await outbox.append(topicFor(settings, recipient), sealed)
        // never more than STDIN_WINDOW waiting in memory: stdin is read as fast as the broker acknowledges
        while (outbox.pending >= STDIN_WINDOW) await drainer.drained(1000)
      }
    }
  } finally {
    sequence.close()
  }
  const ok = await drainer.drained(timeoutMs)
  await link.stop().catch(() => {})
  if (!ok)
    throw new DaneelError(
      'ERR_MQTT',
      `the broker at ${settings.mqttUrl} did not acknowledge ${outbox.pending} of ${count} messages within ${timeoutMs / 1000} s`,
    )
  const out =
    message === '-'
      ? { to: recipient, count, firstSeq: first ?? null, lastSeq: last ?? null, bytes, profile: sealer.profile, auth: peer.auth }
      : { to: recipient, seq: first, bytes, profile: sealer.profile, auth: peer.auth }
  process.stdout.write(`${JSON.stringify(out)}\n`)
  return 0
}
