/** `daneel identity rotate [--commit|--finish]`: a key rollover without an outage (RFC 7671 §8.1 "current + next"). */

import { requireDaneId, resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS, type Settings } from '../../../settings/settings.js'
import { keyIdString, pkixCdUrl } from '../../../src/dane/pkix-cd.js'
import { formatTlsaZoneLine } from '../../../src/dane/tlsa.js'
import { DaneelError, isDaneelError } from '../../../src/errors.js'
import {
  commitNext,
  finishRollover,
  type KeyPair,
  type RolloverState,
  readPair,
  readRollover,
  rolloverPaths,
  stageNext,
  writeRollover,
} from '../../../src/identity/rollover.js'
import { parseCommand, usageError } from '../../args.js'
import { identityRecord } from '../../monitor/advice.js'
import { createContext } from '../../monitor/context.js'
import { observeTlsa } from '../../monitor/observe.js'

export const summary = 'key rollover: stage the next key (current + next records), --commit, --finish'

const HELP = `Usage: daneel identity rotate [--commit | --finish] [--wait] [--days N] [--json]

  (no flag)   stage the next key and certificate in CRYPTO_PATH (NAME.next.key.pem, NAME.next.crt.pem) and print
              the "current + next" TLSA records to publish
  --commit    switch to the next key, only when validated DNS shows the next record and the old RRset's TTL
              has passed since then (the old key is kept as NAME.prev.key.pem to decrypt late messages)
  --finish    print the record set without the old record; once validated DNS no longer shows the old record
              (for a TTL), discard the old key and end the rollover
  --wait      with --commit or --finish: poll DNS (by its TTL) until the step can complete
  --days N    validity of the next certificate (default 365)
  --json      machine-readable output
Every step can be interrupted and run again.

${SETTINGS_HELP}`

const OPTIONS = {
  ...SETTINGS_OPTIONS,
  commit: { type: 'boolean' },
  finish: { type: 'boolean' },
  wait: { type: 'boolean' },
  days: { type: 'string' },
  json: { type: 'boolean' },
} as const

const lineFor = (name: string, pair: KeyPair, noDnssec: boolean): string =>
  formatTlsaZoneLine(name, identityRecord(pair.cert.der, noDnssec))
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function out(json: boolean, obj: Record<string, unknown>, text: string[]): void {
  process.stdout.write(json ? `${JSON.stringify(obj)}\n` : `${text.join('\n')}\n`)
}

function pkixLines(name: string, pair: KeyPair, noDnssec: boolean): string[] {
  if (!noDnssec || pair.cert.aki === undefined) return []
  return [
    `PKIX-CD: serve ${pair.cert.ski !== undefined && keyIdString(pair.cert.ski) === keyIdString(pair.cert.aki) ? 'this certificate' : 'its issuing CA'} at ${pkixCdUrl(name, pair.cert.aki)}`,
  ]
}

/** What validated DNS says about a certificate: shown (and authenticated), plus the RRset TTL. */
async function dnsShows(settings: Settings, name: string, certDers: Uint8Array[]): Promise<{ shown: boolean[]; ttl: number }> {
  const ctx = createContext(settings)
  const t = await observeTlsa(ctx.resolver, name)
  if (t instanceof Error) throw t
  if (t.status === 'bogus') throw new DaneelError('ERR_DNSSEC_BOGUS', `${name}: ${t.reason}`)
  if (t.status === 'indeterminate') throw new DaneelError('ERR_DNSSEC_INDETERMINATE', `${name}: ${t.reason}`)
  const viaPkix = settings.noDnssec || t.status === 'insecure'
  const shown: boolean[] = []
  for (const der of certDers) {
    let ok = t.records.some((r) => (r.usage === 3 || r.usage === 4) && ctx.match([{ ...r, usage: 3 }], [der]).matched)
    if (ok && viaPkix) {
      ok =
        (await ctx.pkixCd?.authenticate(name, der).then(
          () => true,
          () => false,
        )) ?? false
    }
    shown.push(ok)
  }
  return { shown, ttl: t.ttl ?? 0 }
}

async function commit(settings: Settings, name: string, json: boolean, wait: boolean): Promise<number> {
  const p = rolloverPaths(settings.cryptoPath, name)
  for (;;) {
    let state = readRollover(settings.cryptoPath, name)
    if (state === undefined) throw new DaneelError('ERR_USAGE', `no rollover of ${name} is staged (run: daneel identity rotate)`)
    if (state.phase !== 'committed') {
      const next = state.phase === 'committing' ? undefined : readPair(p.nextKey, p.nextCert)
      let waitMs = 0
      let why = ''
      if (next !== undefined) {
        const now = Date.now()
        const dns = await dnsShows(settings, name, [next.cert.der])
        if (!dns.shown[0]) {
          waitMs = Math.max(1, dns.ttl) * 1000
          why = `validated DNS does not show the next record yet; publish:\n  ${lineFor(name, next, settings.noDnssec)}`
        } else {
          const seen: RolloverState = { ...state, nextSeenAt: state.nextSeenAt ?? now, ttl: Math.max(state.ttl ?? 0, dns.ttl) }
          if (seen.nextSeenAt !== state.nextSeenAt || seen.ttl !== state.ttl) writeRollover(settings.cryptoPath, seen)
          state = seen
          waitMs = (seen.nextSeenAt ?? now) + (seen.ttl ?? 0) * 1000 - now
          if (waitMs > 0)
            why = `the next record is published; caches may hold the old RRset ${Math.ceil(waitMs / 1000)} s more (TTL ${seen.ttl} s)`
        }
      }
      if (waitMs > 0 && why !== '') {
        if (!wait) {
          out(json, { name, committed: false, reason: why, retryAfter: Math.ceil(waitMs / 1000) }, [`${name}: not committed: ${why}`])
          return 1
        }
        process.stderr.write(`daneel: ${why}; waiting ${Math.ceil(waitMs / 1000)} s\n`)
        await sleep(Math.min(waitMs, 300_000))
        continue
      }
      state = commitNext(settings.cryptoPath, name, { now: Date.now(), appUid: settings.appUid })
    }
    const cur = readPair(p.key, p.cert)
    out(json, { name, committed: true, phase: state.phase }, [
      `${name}: switched to the next key (the old key is kept as ${p.prevKey} until --finish).`,
      'Now publish the set without the old record (daneel identity rotate --finish prints it):',
      ...(cur === undefined ? [] : [`  ${lineFor(name, cur, settings.noDnssec)}`]),
    ])
    return 0
  }
}

async function finish(settings: Settings, name: string, json: boolean, wait: boolean): Promise<number> {
  const p = rolloverPaths(settings.cryptoPath, name)
  const state = readRollover(settings.cryptoPath, name)
  if (state === undefined) throw new DaneelError('ERR_USAGE', `no rollover of ${name} in progress`)
  if (state.phase !== 'committed')
    throw new DaneelError('ERR_USAGE', `the rollover of ${name} is ${state.phase}: run 'daneel identity rotate --commit' first`)
  const cur = readPair(p.key, p.cert)
  if (cur === undefined) throw new DaneelError('ERR_IDENTITY_MISSING', `no identity ${name} in ${settings.cryptoPath}`)
  const set = [lineFor(name, cur, settings.noDnssec)]
  let printed = false
  for (;;) {
    const prev = readPair(p.prevKey, p.prevCert)
    const dns = await dnsShows(settings, name, prev === undefined ? [cur.cert.der] : [cur.cert.der, prev.cert.der])
    const now = Date.now()
    const s = readRollover(settings.cryptoPath, name) ?? state
    const oldShown = dns.shown[1] === true
    let remaining = 0
    if (!oldShown) {
      const gone: RolloverState = { ...s, oldGoneAt: s.oldGoneAt ?? now, ttl: Math.max(s.ttl ?? 0, dns.ttl) }
      if (gone.oldGoneAt !== s.oldGoneAt || gone.ttl !== s.ttl) writeRollover(settings.cryptoPath, gone)
      remaining = (gone.oldGoneAt ?? now) + (gone.ttl ?? 0) * 1000 - now
      if (dns.shown[0] === true && remaining <= 0) {
        finishRollover(settings.cryptoPath, name)
        out(json, { name, finished: true, publish: set }, [
          'Published record set:',
          ...set.map((l) => `  ${l}`),
          `${name}: rollover finished; the old key is discarded.`,
        ])
        return 0
      }
    } else if (s.oldGoneAt !== undefined) {
      const { oldGoneAt: _, ...back } = s
      writeRollover(settings.cryptoPath, back)
    }
    const why =
      !oldShown && dns.shown[0] !== true
        ? 'validated DNS does not show the current record: publish the set above'
        : oldShown
          ? 'validated DNS still shows the old record: publish the set above'
          : `the old record is gone; caches may hold it ${Math.ceil(remaining / 1000)} s more`
    if (!wait) {
      out(json, { name, finished: false, publish: set, reason: why }, [
        'Publish this record set (without the old record):',
        ...set.map((l) => `  ${l}`),
        ...pkixLines(name, cur, settings.noDnssec),
        `${name}: ${why}; run 'daneel identity rotate --finish' again to discard the old key.`,
      ])
      return 0
    }
    if (!printed) process.stdout.write(`Publish this record set (without the old record):\n${set.map((l) => `  ${l}`).join('\n')}\n`)
    printed = true
    const ms = Math.max(1000, remaining > 0 ? remaining : Math.max(1, dns.ttl) * 1000)
    process.stderr.write(`daneel: ${why}; waiting ${Math.ceil(ms / 1000)} s\n`)
    await sleep(Math.min(ms, 300_000))
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, HELP)
  if (parsed === undefined) return 0
  const v = parsed.values
  if (parsed.positionals.length > 0) throw usageError(HELP, `unexpected argument '${parsed.positionals[0]}'`)
  if (v.commit === true && v.finish === true) throw new DaneelError('ERR_USAGE', '--commit and --finish are separate steps')
  const settings = resolveSettings(v, process.env)
  const name = requireDaneId(settings)
  const json = v.json === true
  if (v.commit === true) return commit(settings, name, json, v.wait === true)
  if (v.finish === true) return finish(settings, name, json, v.wait === true)
  const days = v.days === undefined ? 365 : Number(v.days)
  if (!Number.isInteger(days) || days < 1 || days > 36500)
    throw new DaneelError('ERR_USAGE', `--days takes a whole number from 1 to 36500, not '${v.days}'`)
  const staged = (() => {
    try {
      return stageNext(settings.cryptoPath, name, { now: Date.now(), appUid: settings.appUid, days, ca: settings.noDnssec })
    } catch (err) {
      // src/ names no flags: the command line says which step comes next
      if (isDaneelError(err, 'ERR_USAGE'))
        throw new DaneelError('ERR_USAGE', `${err.message} (run 'daneel identity rotate --finish')`, { cause: err })
      throw err
    }
  })()
  const { current, next, state } = staged
  if (state.ttl === undefined) {
    // remember the TTL of the RRset published now: caches may serve it this long after the change (the "old TTL")
    const ttl = await dnsShows(settings, name, []).then(
      (d) => d.ttl,
      () => undefined,
    )
    if (ttl !== undefined) writeRollover(settings.cryptoPath, { ...state, ttl })
  }
  const p = rolloverPaths(settings.cryptoPath, name)
  const set = [lineFor(name, current, settings.noDnssec), lineFor(name, next, settings.noDnssec)]
  out(json, { name, phase: state.phase, nextKey: p.nextKey, nextCert: p.nextCert, publish: set }, [
    `${name}: next key staged in ${p.nextKey} (certificate ${p.nextCert}).`,
    'Publish this record set (current + next), then run: daneel identity rotate --commit',
    ...set.map((l) => `  ${l}`),
    ...pkixLines(name, next, settings.noDnssec),
  ])
  return 0
}
