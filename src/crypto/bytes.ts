/** Small byte helpers shared by both providers (no node:crypto here, so the noble provider can use them). */

/** AL of RFC 7518 §5.2.2.1: the AAD length in bits as a 64-bit big-endian integer. */
export function aadBitLength(aad: Uint8Array): Uint8Array {
  const al = new Uint8Array(8)
  const view = new DataView(al.buffer)
  view.setUint32(0, Math.floor(aad.length / 0x20000000))
  view.setUint32(4, (aad.length * 8) >>> 0)
  return al
}
