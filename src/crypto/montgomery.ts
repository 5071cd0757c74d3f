/** Ed25519 keys used for X25519 key agreement: the birational map of RFC 7748 §4.1 and the RFC 8032 §5.1.5 scalar. */
import { DaneelError } from '../errors.js'

const P = 2n ** 255n - 19n

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n
  let x = b % m
  while (e > 0n) {
    if (e & 1n) r = (r * x) % m
    x = (x * x) % m
    e >>= 1n
  }
  return r
}

/**
 * The X25519 u-coordinate of an Ed25519 public key: u = (1 + y) / (1 - y) mod p. Runs once per key import
 * (BigInt, about 0.3 ms), so a sensor with an Ed25519 identity can be encrypted to without a second key.
 */
export function edwardsToMontgomeryPublic(ed: Uint8Array): Uint8Array {
  if (ed.length !== 32) throw new DaneelError('ERR_KEY_INVALID', 'an Ed25519 public key is 32 bytes')
  let y = 0n
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(ed[i] as number)
  y &= (1n << 255n) - 1n
  if (y >= P) throw new DaneelError('ERR_KEY_INVALID', 'Ed25519 public key out of range')
  const den = (1n - y + P) % P
  if (den === 0n) throw new DaneelError('ERR_KEY_INVALID', 'Ed25519 public key maps to no X25519 key')
  const u = ((1n + y) * modPow(den, P - 2n, P)) % P
  const out = new Uint8Array(32)
  let v = u
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

/** The X25519 secret of an Ed25519 seed: the first half of SHA-512(seed) (clamped by X25519 itself). */
export function edwardsToMontgomerySecret(seed: Uint8Array, sha512: (d: Uint8Array) => Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new DaneelError('ERR_KEY_INVALID', 'an Ed25519 seed is 32 bytes')
  return sha512(seed).slice(0, 32)
}

/** True when every byte is zero: the X25519 output for a low-order peer point (RFC 7748 §6.1 check). */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i] as number
  return acc === 0
}
