/** Byte-array helpers for the whole tree: concatenation, equality, and a separate constant-time comparison for secrets. */

/** The parts, one after another, in a new array (plain number arrays count as bytes: handy for fixed header octets). */
export function concatBytes(...parts: ReadonlyArray<Uint8Array | readonly number[]>): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.length
  }
  return out
}

/**
 * Same length and the same bytes. Returns at the first difference, so its time depends on the data: for public
 * values only (certificates, SPKIs, digests of public keys). Secrets go through `constantTimeEqual`.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Equality whose time depends only on the length, never on where the bytes differ (no timing oracle for an attacker
 * who forges a signature encoding byte by byte, e.g. the RSA checks of RFC 8017 §8.2.2 step 4). Lengths are public.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let acc = 0
  for (let i = 0; i < a.length; i++) acc |= (a[i] as number) ^ (b[i] as number)
  return acc === 0
}
