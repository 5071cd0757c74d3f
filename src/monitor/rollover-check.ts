/** Monitor check (c): where a key rollover stands (RFC 7671 §8.1), judged from the rollover state and validated DNS. */
import type { RolloverState } from '../identity/rollover.js'
import type { ChainMatcher, TlsaObservation } from './checks.js'
import type { CheckResult, Level } from './state.js'

export interface RolloverObservation {
  name: string
  state: RolloverState
  tlsa: TlsaObservation | Error
  /** Certificates (DER): the staged next one (phase staged) and the previous one (phase committed). */
  nextCertDer?: Uint8Array
  prevCertDer?: Uint8Array
}

const DAY = 86_400_000
const ago = (ms: number): string =>
  ms < 120_000 ? `${Math.round(ms / 1000)} s` : ms < 2 * 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 3_600_000)} h`

/** Healthy while the rollover moves as it should; warns when it stalls (next never published, old never removed). */
export function evaluateRollover(o: RolloverObservation, opts: { now: number; match: ChainMatcher; staleAfterMs?: number }): CheckResult {
  const stale = opts.staleAfterMs ?? 7 * DAY
  const data: Record<string, unknown> = { phase: o.state.phase, stagedAt: new Date(o.state.stagedAt).toISOString() }
  const done = (level: Level, summary: string, details: string[] = []): CheckResult => ({
    id: `rollover:${o.name}`,
    kind: 'rollover',
    target: o.name,
    level,
    summary,
    details,
    data,
  })
  if (o.tlsa instanceof Error) return done('failure', `cannot see the published records: ${o.tlsa.message}`)
  if (o.tlsa.status === 'bogus' || o.tlsa.status === 'indeterminate') return done('failure', `DNSSEC ${o.tlsa.status}: ${o.tlsa.reason}`)
  const shows = (der: Uint8Array | undefined): boolean =>
    der !== undefined &&
    o.tlsa instanceof Error === false &&
    (o.tlsa as TlsaObservation).records.some((r) => opts.match([r], [der]).matched)
  switch (o.state.phase) {
    case 'staged': {
      const published = shows(o.nextCertDer)
      data.nextPublished = published
      if (published)
        return done(
          'ok',
          `rollover in progress: next key published${o.state.nextSeenAt === undefined ? '' : ` ${ago(opts.now - o.state.nextSeenAt)} ago`}; run 'daneel identity rotate --commit'`,
        )
      const age = opts.now - o.state.stagedAt
      return done(age > stale ? 'warning' : 'ok', `rollover staged ${ago(age)} ago; the next record is not published yet`)
    }
    case 'committing':
      return done('warning', "a commit was interrupted: run 'daneel identity rotate --commit' again")
    case 'committed': {
      const oldShown = shows(o.prevCertDer)
      data.oldPublished = oldShown
      const age = opts.now - (o.state.committedAt ?? o.state.stagedAt)
      if (oldShown)
        return done(
          age > stale ? 'warning' : 'ok',
          `rollover committed ${ago(age)} ago; the old record is still published: run 'daneel identity rotate --finish'`,
        )
      return done('ok', "rollover committed and the old record removed: run 'daneel identity rotate --finish' to discard the old key")
    }
  }
}
