/** Piecewise-linear index tables (the shape shared by the US AQI and the EU CAQI) and their interpolation. */

/** One segment: concentrations [cLo, cHi] map linearly onto index values [iLo, iHi]. */
export interface Segment {
  cLo: number
  cHi: number
  iLo: number
  iHi: number
  category: string
}

/**
 * Index of `c` on `table` (segments in ascending order): the segment with cLo <= c <= cHi, else (a concentration
 * above the table) the top segment's line extended, flagged `beyond`. The caller truncates or rounds `c` first as
 * its scheme requires; the EPA tables have gaps (9.0 | 9.1) that a truncated value never falls into.
 */
export function interpolate(table: readonly Segment[], c: number): { index: number; category: string; beyond: boolean } {
  for (const s of table) {
    if (c >= s.cLo && c <= s.cHi) return { index: line(s, c), category: s.category, beyond: false }
  }
  const top = table[table.length - 1] as Segment
  if (c > top.cHi) return { index: line(top, c), category: top.category, beyond: true }
  // Inside a gap (an untruncated value such as 9.05): the segment that starts above it.
  const next = table.find((s) => s.cLo > c) as Segment
  return { index: next.iLo, category: next.category, beyond: false }
}

function line(s: Segment, c: number): number {
  return ((s.iHi - s.iLo) / (s.cHi - s.cLo)) * (c - s.cLo) + s.iLo
}

/** Truncates `x` to `decimals` places (EPA: "truncated to 0.1 µg/m³ for PM2.5 and 1 µg/m³ for PM10"), robust to binary fractions. */
export function truncate(x: number, decimals: number): number {
  const f = 10 ** decimals
  // 35.4 * 10 = 353.99999999999994 in binary: nudge by a tiny epsilon before flooring.
  return Math.floor(x * f + 1e-9) / f
}
