/** Readings as CSV (RFC 4180): fixed columns, then one column per value key found in the rows, sorted. */
import type { ReadingRow } from '../store/types.js'

const FIXED = ['node', 'seq', 'time', 'receivedAt', 'auth', 'bound', 'sensor', 'model'] as const

export function readingsCsv(rows: readonly ReadingRow[]): string {
  const keys = new Set<string>()
  for (const r of rows) for (const k of Object.keys(r.values)) keys.add(k)
  const valueKeys = [...keys].sort()
  const lines = [[...FIXED, ...valueKeys].map(field).join(',')]
  for (const r of rows) {
    const cells = FIXED.map((k) => field(r[k]))
    for (const k of valueKeys) cells.push(field(r.values[k]))
    lines.push(cells.join(','))
  }
  return `${lines.join('\r\n')}\r\n`
}

/** One field: empty for null/undefined, quoted when it holds a comma, quote or line break (RFC 4180 §2.6-2.7). */
function field(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return ''
  let s = String(v)
  // A leading = + - @ makes spreadsheets evaluate the cell (CSV injection): prefix a quote, as OWASP advises.
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}
