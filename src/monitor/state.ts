/** Monitor results and the remembered state: an alert goes out once per change of a check's level, not on every run. */
import { writeFileAtomic } from '../fsutil.js'
import { isMissingFile, MAX_CONFIG_FILE_BYTES, readTextBounded } from '../read-file.js'

export type Level = 'ok' | 'warning' | 'failure'
export type CheckKind = 'identity' | 'tls' | 'smtp' | 'rollover'

export interface CheckResult {
  /** Stable key across runs, e.g. `tls:mx.example.com:25`. */
  id: string
  kind: CheckKind
  target: string
  level: Level
  /** One line for people. */
  summary: string
  /** Further lines (shown with --verbose and in alerts). */
  details: string[]
  /** Machine fields for --json (validation status, matched record, days left...). */
  data: Record<string, unknown>
}

export interface MonitorState {
  version: 1
  checks: Record<string, { level: Level; summary: string; since: number }>
}

export interface StateChange {
  id: string
  from: Level
  to: Level
  summary: string
}

const RANK: Record<Level, number> = { ok: 0, warning: 1, failure: 2 }

/** The worst level of a run (no checks is healthy). */
export function overallLevel(results: readonly CheckResult[]): Level {
  let worst: Level = 'ok'
  for (const r of results) if (RANK[r.level] > RANK[worst]) worst = r.level
  return worst
}

/**
 * Exit status, the one convention of every command (0 ok, 1 a check failed, 2 usage or input error): 0 healthy, 1
 * a warning or a failure (which one is in the output: `overall` in --json, the STATUS column in the table).
 */
export const exitCodeOf = (level: Level): number => (level === 'ok' ? 0 : 1)

/** Reads the state file; a missing file is the empty state, a corrupt one is reported and replaced. */
export function loadState(path: string): MonitorState {
  let text: string
  try {
    text = readTextBounded(path, { maxBytes: MAX_CONFIG_FILE_BYTES, what: 'monitor state' })
  } catch (err) {
    if (isMissingFile(err)) return { version: 1, checks: {} }
    throw err
  }
  try {
    const v = JSON.parse(text) as MonitorState
    if (v?.version === 1 && typeof v.checks === 'object' && v.checks !== null) return v
  } catch {
    // fall through: a torn or foreign file must not stop the monitor; the next save replaces it
  }
  return { version: 1, checks: {} }
}

export function saveState(path: string, state: MonitorState): void {
  writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
}

/**
 * Compares this run with the remembered one. A check never seen before counts as coming from 'ok', so a first
 * healthy run is silent and a first failing run alerts. Checks not in this run keep their remembered state, so
 * two monitor invocations with different checks can share one state file without alerting each other's checks.
 */
export function diffState(
  prev: MonitorState,
  results: readonly CheckResult[],
  now: number,
): { changes: StateChange[]; next: MonitorState } {
  const changes: StateChange[] = []
  const next: MonitorState = { version: 1, checks: { ...prev.checks } }
  for (const r of results) {
    const old = prev.checks[r.id]
    const from = old?.level ?? 'ok'
    if (from !== r.level) changes.push({ id: r.id, from, to: r.level, summary: r.summary })
    next.checks[r.id] = { level: r.level, summary: r.summary, since: old !== undefined && old.level === r.level ? old.since : now }
  }
  return { changes, next }
}
