/** Groups a message section into RRsets with the RRSIGs that cover them (RFC 2181 §5, RFC 4034 §3). */
import type { Name } from './name.js'
import { type Rr, TYPE } from './wire.js'

export interface RrsetGroup {
  name: Name
  type: number
  rrs: Rr[]
  sigs: Rr[]
}

const covered = (sig: Rr): number => ((sig.rdata[0] ?? 0) << 8) | (sig.rdata[1] ?? 0)

/** RRsets of a section (class IN only), each with its covering RRSIGs; RRSIGs themselves are not an RRset here. */
export function groupRrsets(section: readonly Rr[]): RrsetGroup[] {
  const groups = new Map<string, RrsetGroup>()
  const key = (name: Name, type: number): string => `${type}/${name}`
  for (const rr of section) {
    if (rr.class !== 1) continue
    const type = rr.type === TYPE.RRSIG ? covered(rr) : rr.type
    const k = key(rr.name, type)
    let g = groups.get(k)
    if (g === undefined) {
      g = { name: rr.name, type, rrs: [], sigs: [] }
      groups.set(k, g)
    }
    if (rr.type === TYPE.RRSIG) g.sigs.push(rr)
    else g.rrs.push(rr)
  }
  return [...groups.values()].filter((g) => g.rrs.length > 0)
}

export function findRrset(section: readonly Rr[], name: Name, type: number): RrsetGroup | undefined {
  return groupRrsets(section).find((g) => g.name === name && g.type === type)
}
