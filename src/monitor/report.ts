/** Monitor output: a table for people, one JSON document for machines, and the alert text/JSON sent on a change. */
import { type CheckResult, overallLevel, type StateChange } from './state.js'

const MARK = { ok: 'OK', warning: 'WARN', failure: 'FAIL' } as const

/** A fixed-width table: level, check, target, summary (details indented below with `verbose`). */
export function formatTable(results: readonly CheckResult[], verbose: boolean): string {
  const rows = results.map((r) => ({ cells: [MARK[r.level], r.kind, r.target, r.summary], details: r.details }))
  const head = ['STATUS', 'CHECK', 'TARGET', 'SUMMARY']
  // the first three columns are padded to their widest cell; the summary is last and left as it is
  const width = head.slice(0, 3).map((h, i) => Math.max(h.length, ...rows.map((row) => row.cells[i]?.length ?? 0)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(width[i] ?? 0))
      .join('  ')
      .trimEnd()
  const indent = ' '.repeat((width[0] ?? 0) + 2)
  const out = [line(head)]
  for (const row of rows) {
    out.push(line(row.cells))
    if (verbose) for (const d of row.details) out.push(`${indent}- ${d}`)
  }
  out.push(`overall: ${overallLevel(results)}`)
  return `${out.join('\n')}\n`
}

export function toJson(results: readonly CheckResult[], now: number): string {
  return `${JSON.stringify({ time: new Date(now).toISOString(), overall: overallLevel(results), checks: results })}\n`
}

export interface Alert {
  text: string
  json: { time: string; overall: string; changes: StateChange[]; checks: CheckResult[] }
}

/** The message for --notify-cmd (text on stdin) and --webhook (JSON POST). */
export function buildAlert(results: readonly CheckResult[], changes: readonly StateChange[], now: number, host: string): Alert {
  const overall = overallLevel(results)
  const lines = [`daneel monitor on ${host}: ${overall}`]
  for (const c of changes) {
    lines.push(`${c.id}: ${c.from} -> ${c.to}: ${c.summary}`)
    const r = results.find((x) => x.id === c.id)
    for (const d of r?.details ?? []) lines.push(`  ${d}`)
  }
  return {
    text: `${lines.join('\n')}\n`,
    json: { time: new Date(now).toISOString(), overall, changes: [...changes], checks: [...results] },
  }
}
