/** Domain names (RFC 1035 §3.1, RFC 4034 §6.1): lower-case presentation form with a final dot, wire labels, canonical order. */
import { DaneelError } from '../errors.js'

/**
 * A name is kept as a lower-case absolute presentation string ("dev1._device.example.test.", root "."),
 * bytes outside [a-z0-9-_*] escaped as \DDD and "." / "\" as "\." / "\\", so the form is lossless and a Map key.
 */
export type Name = string

const MAX_NAME = 255
const PLAIN = /^[a-z0-9_*-]$/

function escapeLabel(label: Uint8Array): string {
  let s = ''
  for (const b of label) {
    const lower = b >= 0x41 && b <= 0x5a ? b + 32 : b
    const c = String.fromCharCode(lower)
    if (PLAIN.test(c)) s += c
    else if (c === '.' || c === '\\') s += `\\${c}`
    else s += `\\${String(lower).padStart(3, '0')}`
  }
  return s
}

/** Labels (lower-cased bytes) to a Name. */
export function nameFromLabels(labels: Uint8Array[]): Name {
  return labels.length === 0 ? '.' : `${labels.map(escapeLabel).join('.')}.`
}

/** Splits a Name (or any user-typed name, relative names taken as absolute) into lower-cased label bytes. */
export function nameLabels(name: string): Uint8Array[] {
  const labels: Uint8Array[] = []
  let cur: number[] = []
  const s = name.trim()
  if (s === '.' || s === '') return labels
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i)
    if (ch === 0x5c) {
      const d = s.slice(i + 1, i + 4)
      if (/^\d{3}$/.test(d)) {
        cur.push(Number(d))
        i += 3
      } else {
        cur.push(s.charCodeAt(i + 1))
        i += 1
      }
    } else if (ch === 0x2e) {
      if (cur.length === 0) throw new DaneelError('ERR_NAME_INVALID', `empty label in '${name}'`)
      labels.push(Uint8Array.from(cur))
      cur = []
    } else {
      cur.push(ch >= 0x41 && ch <= 0x5a ? ch + 32 : ch)
    }
  }
  if (cur.length > 0) labels.push(Uint8Array.from(cur))
  let len = 1
  for (const l of labels) {
    if (l.length > 63 || l.some((b) => b > 255)) throw new DaneelError('ERR_NAME_INVALID', `label too long or not bytes in '${name}'`)
    len += l.length + 1
  }
  if (len > MAX_NAME) throw new DaneelError('ERR_NAME_INVALID', `name longer than 255 bytes: '${name}'`)
  return labels
}

/** Normalises user input ("Example.TEST") to a Name ("example.test."). Throws ERR_NAME_INVALID. */
export const toName = (name: string): Name => nameFromLabels(nameLabels(name))

/** Uncompressed, lower-case wire form (the canonical form of RFC 4034 §6.2). */
export function nameToWire(name: Name): Uint8Array {
  return labelsToWire(nameLabels(name))
}

/** Labels in wire form: each with its length octet, then the root's zero octet (RFC 1035 §3.1). */
export function labelsToWire(labels: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(labels.reduce((n, l) => n + l.length + 1, 1))
  let o = 0
  for (const l of labels) {
    out[o++] = l.length
    out.set(l, o)
    o += l.length
  }
  return out
}

/** Number of labels, not counting the root (RFC 4034 §3.1.3: and not counting a leading "*"). */
export function labelCount(name: Name, excludeWildcard = false): number {
  const labels = nameLabels(name)
  if (excludeWildcard && labels[0]?.length === 1 && labels[0][0] === 0x2a) return labels.length - 1
  return labels.length
}

/** The name with its first label removed ("." stays "."). */
export function parentName(name: Name): Name {
  return nameFromLabels(nameLabels(name).slice(1))
}

/** The last `n` labels of a name (the closest-encloser side of a wildcard, RFC 4035 §5.3.4). */
export function suffixName(name: Name, n: number): Name {
  const labels = nameLabels(name)
  return nameFromLabels(labels.slice(labels.length - n))
}

/** True when `name` equals `zone` or lies under it. */
export function isSubdomain(name: Name, zone: Name): boolean {
  if (zone === '.' || name === zone) return true
  if (!name.endsWith(`.${zone}`)) return false
  // "a\.example.test." is one label "a.example" under "test.", not under "example.test.": compare labels.
  const n = nameLabels(name)
  const z = nameLabels(zone)
  return z.every((l, i) => compareBytes(l, n[n.length - z.length + i] as Uint8Array) === 0)
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number)
  return a.length - b.length
}

/** RFC 4034 §6.1 canonical order: compare labels from the rightmost, each as lower-case bytes. */
export function canonicalCompare(a: Name, b: Name): number {
  const la = nameLabels(a)
  const lb = nameLabels(b)
  for (let i = 1; i <= Math.min(la.length, lb.length); i++) {
    const c = compareBytes(la[la.length - i] as Uint8Array, lb[lb.length - i] as Uint8Array)
    if (c !== 0) return c
  }
  return la.length - lb.length
}

export { compareBytes }
