/** The Concat KDF of NIST SP 800-56A §5.8.1 as profiled for ECDH-ES by RFC 7518 §4.6.2. */

/**
 * OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo, each variable part prefixed with its
 * 32-bit big-endian length (RFC 7518 §4.6.2). It depends only on the algorithm and the parties, so senders and
 * receivers build it once per pair and reuse it for every message.
 */
export function concatKdfOtherInfo(algorithmId: string, keyBits: number, apu: Uint8Array = EMPTY, apv: Uint8Array = EMPTY): Uint8Array {
  const alg = Buffer.from(algorithmId, 'ascii')
  const out = new Uint8Array(4 + alg.length + 4 + apu.length + 4 + apv.length + 4)
  const view = new DataView(out.buffer)
  let o = 0
  view.setUint32(o, alg.length)
  out.set(alg, o + 4)
  o += 4 + alg.length
  view.setUint32(o, apu.length)
  out.set(apu, o + 4)
  o += 4 + apu.length
  view.setUint32(o, apv.length)
  out.set(apv, o + 4)
  o += 4 + apv.length
  view.setUint32(o, keyBits)
  return out
}

const EMPTY = new Uint8Array(0)

/**
 * Derives `keyBits` of key from the shared secret Z: the concatenation of SHA-256(counter || Z || OtherInfo)
 * for counter = 1, 2, ... (32-bit big-endian), truncated. One round for A256GCM, two for A256CBC-HS512.
 */
export function concatKdf(sha256: (data: Uint8Array) => Uint8Array, z: Uint8Array, keyBits: number, otherInfo: Uint8Array): Uint8Array {
  const keyBytes = keyBits >>> 3
  const rounds = Math.ceil(keyBytes / 32)
  const input = new Uint8Array(4 + z.length + otherInfo.length)
  input.set(z, 4)
  input.set(otherInfo, 4 + z.length)
  if (rounds === 1) {
    input[3] = 1
    const d = sha256(input)
    return d.length === keyBytes ? d : d.subarray(0, keyBytes)
  }
  const out = new Uint8Array(rounds * 32)
  for (let i = 1; i <= rounds; i++) {
    input[0] = i >>> 24
    input[1] = (i >>> 16) & 0xff
    input[2] = (i >>> 8) & 0xff
    input[3] = i & 0xff
    out.set(sha256(input), (i - 1) * 32)
  }
  return out.subarray(0, keyBytes)
}
