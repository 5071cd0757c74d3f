/** `daneel identity check`: look our own name up as a peer would, compare with the local identity, say what to publish. */

import { requireDaneId, resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS } from '../../../settings/settings.js'
import { DaneelError } from '../../../src/errors.js'
import { DIGEST_ONLY_NOTE } from '../../../src/identity/present.js'
import { evaluateIdentity } from '../../../src/monitor/checks.js'
import { parseCommand, usageError } from '../../args.js'
import { publishAdvice } from '../../monitor/advice.js'
import { type CliContext, createContext } from '../../monitor/context.js'
import { type LocalIdentity, observeIdentity, readLocalIdentity } from '../../monitor/observe.js'

export const summary = "self-check: is the published TLSA identity this device's certificate? (--wait until it is)"

const HELP = `Usage: daneel identity check [--wait] [--timeout SECONDS] [--json]

Looks the device's own name up as a peer would (validated DNSSEC; PKIX-CD when the zone is insecure or NO_DNSSEC
is set), compares the published TLSA records with the local certificate and key, and says exactly what is wrong
and what to publish. Exit 0 when the published identity matches, 1 when it does not.

  --wait             poll until it matches (waits the negative-answer TTL while nothing is published,
                     the record TTL otherwise), then exit 0
  --timeout SECONDS  give up waiting after this long (exit 1); default: wait forever
  --json             one JSON object per check

${SETTINGS_HELP}`

const OPTIONS = { ...SETTINGS_OPTIONS, wait: { type: 'boolean' }, timeout: { type: 'string' }, json: { type: 'boolean' } } as const

interface Outcome {
  ok: boolean
  lines: string[]
  json: Record<string, unknown>
  /** Seconds until the answer can change (negative TTL or record TTL). */
  retryAfter: number
}

async function checkOnce(ctx: CliContext, name: string, local: LocalIdentity): Promise<Outcome> {
  const obs = await observeIdentity(ctx, name, local)
  const res = evaluateIdentity(obs, { now: ctx.clock.now(), warnDays: 0, match: ctx.match })
  const t = obs.tlsa
  const ttl = t instanceof Error ? 5 : (t.ttl ?? 5)
  const advice = publishAdvice(name, local, ctx.noDnssec)
  const lines: string[] = []
  let state: string
  if (!local.keyMatches) {
    state = 'key-mismatch'
    lines.push(`${name}: the private key does not belong to the local certificate (${res.summary})`)
  } else if (t instanceof Error || t.status === 'bogus' || t.status === 'indeterminate') {
    state = 'dns-failure'
    lines.push(`${name}: ${res.summary}`, 'the published identity cannot be trusted until DNS validates; nothing to change locally')
  } else if (t.records.length === 0) {
    state = 'unpublished'
    lines.push(`${name}: no TLSA record is published (${t.status}). Publish:`, ...advice.map((l) => `  ${l}`))
  } else if (res.level === 'failure' && res.data.match === false) {
    state = 'different'
    lines.push(
      `${name}: published but different: ${t.records.length} TLSA record(s), none matches the local certificate.`,
      ...res.details.map((d) => `  ${d}`),
      'Publish instead:',
      ...advice.map((l) => `  ${l}`),
    )
  } else if (res.level === 'failure') {
    state = 'not-authenticated'
    lines.push(`${name}: ${res.summary}`, ...advice.map((l) => `  ${l}`))
  } else if (
    !ctx.noDnssec &&
    t.status === 'secure' &&
    !t.records.some((r) => r.usage === 3 && r.matchingType === 0 && ctx.match([r], [local.certDer]).matched)
  ) {
    // a matching digest (3 1 1) proves the binding, but peers must fetch the key to encrypt to us (docs/contract.md "TLSA")
    state = 'digest-only'
    lines.push(`${name}: the published digest matches: ${DIGEST_ONLY_NOTE}. Add:`, ...advice.map((l) => `  ${l}`))
  } else {
    state = 'matching'
    lines.push(
      `${name}: published, ${obs.pkixCd === true ? 'authenticated by PKIX-CD' : 'DNSSEC secure'} and matching the local certificate`,
    )
  }
  const ok = state === 'matching'
  // The summary is this verdict's own first line (never the monitor's "matching" when the state says otherwise).
  const summary = (lines[0] ?? '').slice(name.length + 2).replace(/[.:] (Add|Publish|Publish instead):?$/, '')
  return {
    ok,
    lines,
    retryAfter: Math.max(1, ttl),
    json: { name, state, ok, status: t instanceof Error ? 'error' : t.status, summary, publish: ok ? [] : advice },
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, HELP)
  if (parsed === undefined) return 0
  if (parsed.positionals.length > 0) throw usageError(HELP, `unexpected argument '${parsed.positionals[0]}'`)
  // flags first: a bad flag is a usage error whatever the disk holds
  const timeoutRaw = parsed.values.timeout
  const timeoutS = timeoutRaw === undefined ? Infinity : Number(timeoutRaw)
  if (!(timeoutS > 0)) throw new DaneelError('ERR_USAGE', `--timeout takes a positive number of seconds, not '${timeoutRaw}'`)
  const settings = resolveSettings(parsed.values, process.env)
  const name = requireDaneId(settings)
  const local = readLocalIdentity(settings.cryptoPath, name)
  if (local === undefined)
    throw new DaneelError('ERR_IDENTITY_MISSING', `no certificate ${settings.cryptoPath}/${name}.crt.pem (run: daneel identity create)`)
  const deadline = Date.now() + timeoutS * 1000
  const print = (o: Outcome): void => {
    process.stdout.write(parsed.values.json === true ? `${JSON.stringify(o.json)}\n` : `${o.lines.join('\n')}\n`)
  }
  let last = ''
  for (;;) {
    // a fresh context each round: the resolver's cache must not hide a newly published record
    const ctx = createContext(settings)
    const o = await checkOnce(ctx, name, local)
    if (o.ok || parsed.values.wait !== true) {
      print(o)
      return o.ok ? 0 : 1
    }
    const text = o.lines.join('\n')
    if (text !== last) print(o) // while waiting, say what is wrong once, not on every poll
    last = text
    const waitMs = Math.min(o.retryAfter * 1000, 300_000, deadline - Date.now())
    if (waitMs <= 0) return 1
    process.stderr.write(`daneel: waiting ${Math.ceil(waitMs / 1000)} s (DNS TTL) before looking again\n`)
    await new Promise((r) => setTimeout(r, waitMs))
  }
}
