/** `daneel monitor`: DANE health checks of device identities, TLS/SMTP services and rollovers; alerts once per change. */
import { hostname } from 'node:os'
import { join } from 'node:path'
import { resolveSettings, SETTINGS_HELP, SETTINGS_OPTIONS } from '../../settings/settings.js'
import { normalizeDnsName } from '../../src/dane/names.js'
import { DaneelError } from '../../src/errors.js'
import { ensureDir } from '../../src/fsutil.js'
import { readPair, readRollover, rolloverPaths } from '../../src/identity/rollover.js'
import { evaluateIdentity, evaluateService } from '../../src/monitor/checks.js'
import { buildAlert, formatTable, toJson } from '../../src/monitor/report.js'
import { evaluateRollover } from '../../src/monitor/rollover-check.js'
import { type CheckResult, diffState, exitCodeOf, loadState, overallLevel, saveState } from '../../src/monitor/state.js'
import { parseCommand, usageError } from '../args.js'
import { type CliContext, createContext } from '../monitor/context.js'
import { postWebhook, runNotifyCommand } from '../monitor/notify.js'
import { observeIdentity, observeService, observeTlsa, parseHostPort, readLocalIdentity } from '../monitor/observe.js'

export const summary = 'DANE health checks for devices and TLS/SMTP services'

const HELP = `Usage: daneel monitor [--identity NAME]... [--tls HOST:PORT]... [--smtp HOST:PORT]... [options]

Checks, as a DANE client would:
  (a) device identities: this device's (DANE_ID, with its local certificate and key) and any --identity NAME:
      the TLSA RRset validates (secure, or a good PKIX-CD chain), matches the local certificate and key, the
      certificate does not expire within --warn-days, no stale records linger (more than two records: warning);
  (b) services: connect, take the presented chain (STARTTLS for --smtp, RFC 7672) and match it against the
      validated _PORT._tcp.HOST TLSA RRset;
  (c) the state of a key rollover of this device (daneel identity rotate).
Quiet when healthy unless --verbose. Exit 0 healthy; 1 a warning or a failure (the severity is in the output:
"overall" in --json, the STATUS column otherwise); 2 usage or input error.

  --identity NAME      also check this identity name (repeatable)
  --tls HOST:PORT      check a TLS service (repeatable)
  --smtp HOST:PORT     check an SMTP server with STARTTLS (repeatable)
  --warn-days N        warn when a certificate expires within N days (default 14)
  --json               one JSON document (always printed)
  --verbose            print the table even when healthy, with details
  --notify-cmd CMD     run CMD (via /bin/sh) with the alert text on stdin, once per change of state
  --webhook URL        POST the alert as JSON, once per change of state
  The state that remembers the last verdicts is DANEEL_STATE/monitor-state.json.

${SETTINGS_HELP}`

const OPTIONS = {
  ...SETTINGS_OPTIONS,
  identity: { type: 'string', multiple: true },
  tls: { type: 'string', multiple: true },
  smtp: { type: 'string', multiple: true },
  'warn-days': { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  'notify-cmd': { type: 'string' },
  webhook: { type: 'string' },
} as const

async function ownChecks(ctx: CliContext, name: string, cryptoPath: string, warnDays: number): Promise<CheckResult[]> {
  const local = readLocalIdentity(cryptoPath, name)
  const out = [evaluateIdentity(await observeIdentity(ctx, name, local), { now: ctx.clock.now(), warnDays, match: ctx.match })]
  const state = readRollover(cryptoPath, name)
  if (state !== undefined) {
    const p = rolloverPaths(cryptoPath, name)
    const next = state.phase === 'staged' ? readPair(p.nextKey, p.nextCert) : undefined
    const prev = state.phase === 'committed' ? readPair(p.prevKey, p.prevCert) : undefined
    out.push(
      evaluateRollover(
        {
          name,
          state,
          tlsa: await observeTlsa(ctx.resolver, name),
          ...(next === undefined ? {} : { nextCertDer: next.cert.der }),
          ...(prev === undefined ? {} : { prevCertDer: prev.cert.der }),
        },
        { now: ctx.clock.now(), match: ctx.match },
      ),
    )
  }
  return out
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, OPTIONS, HELP)
  if (parsed === undefined) return 0
  if (parsed.positionals.length > 0) throw usageError(HELP, `unexpected argument '${parsed.positionals[0]}'`)
  const v = parsed.values
  const settings = resolveSettings(v, process.env)
  const warnDays = v['warn-days'] === undefined ? 14 : Number(v['warn-days'])
  if (!Number.isInteger(warnDays) || warnDays < 0 || warnDays > 3650)
    throw new DaneelError('ERR_USAGE', `--warn-days takes a whole number of days, not '${v['warn-days']}'`)
  const services = [
    ...(v.tls ?? []).map((s) => ({ kind: 'tls' as const, ...parseHostPort(s, '--tls') })),
    ...(v.smtp ?? []).map((s) => ({ kind: 'smtp' as const, ...parseHostPort(s, '--smtp') })),
  ]
  const names = (v.identity ?? []).map((n) => normalizeDnsName(n))
  if (settings.daneId === undefined && names.length === 0 && services.length === 0) {
    throw usageError(HELP, `nothing to check: set DANE_ID, or give --identity, --tls or --smtp`)
  }
  const ctx = createContext(settings)
  const now = (): number => ctx.clock.now()
  const jobs: Array<Promise<CheckResult[]>> = []
  if (settings.daneId !== undefined) jobs.push(ownChecks(ctx, settings.daneId, settings.cryptoPath, warnDays))
  for (const n of names.filter((x) => x !== settings.daneId)) {
    jobs.push(observeIdentity(ctx, n, undefined).then((o) => [evaluateIdentity(o, { now: now(), warnDays, match: ctx.match })]))
  }
  for (const s of services) {
    jobs.push(observeService(ctx, s.kind, s.host, s.port).then((o) => [evaluateService(o, { now: now(), warnDays, match: ctx.match })]))
  }
  const results = (await Promise.all(jobs)).flat()
  const level = overallLevel(results)

  if (v.json === true) process.stdout.write(toJson(results, now()))
  else if (level !== 'ok' || v.verbose === true) process.stdout.write(formatTable(results, v.verbose === true))

  ensureDir(settings.stateDir, 0o700)
  const statePath = join(settings.stateDir, 'monitor-state.json')
  const { changes, next } = diffState(loadState(statePath), results, now())
  let delivered = true
  if (changes.length > 0 && (v['notify-cmd'] !== undefined || v.webhook !== undefined)) {
    const alert = buildAlert(results, changes, now(), hostname())
    const sends: Array<Promise<void>> = []
    if (v['notify-cmd'] !== undefined) sends.push(runNotifyCommand(v['notify-cmd'], alert.text))
    if (v.webhook !== undefined) sends.push(postWebhook(v.webhook, alert.json))
    for (const r of await Promise.allSettled(sends)) {
      if (r.status === 'rejected') {
        delivered = false
        process.stderr.write(`daneel: alert not delivered: ${(r.reason as Error).message}\n`)
      }
    }
  }
  // remember the new state only once the alert is out, so a failed delivery is retried on the next run
  if (delivered) saveState(statePath, next)
  return exitCodeOf(level)
}
