/** An attacker's toolkit, written on node:crypto alone (not our code): anyone can build a validly encrypted JWE to a receiver. */
import { createCipheriv, createECDH, createHash, createHmac, type KeyObject, sign } from 'node:crypto'

const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url')

export interface JweParts {
  header: Record<string, unknown>
  /** Replace the header text entirely (after the epk is known), e.g. to duplicate a member. */
  headerText?: (header: Record<string, unknown>) => string
  plaintext: string | Uint8Array
  ivLength?: number
  tagLength?: number
  /** Override the epk (after it was used for the real agreement). */
  epk?: Record<string, unknown>
}

/** ECDH-ES + A256GCM to a P-256 recipient (RFC 7518 §4.6, §5.3), compact serialization. */
export function encryptTo(recipient: KeyObject, parts: JweParts): string {
  const jwk = recipient.export({ format: 'jwk' })
  const eph = createECDH('prime256v1')
  const epkPoint = eph.generateKeys()
  const z = eph.computeSecret(
    Buffer.concat([Buffer.of(4), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')]),
  )
  const alg = Buffer.from('A256GCM')
  const other = Buffer.concat([Buffer.from([0, 0, 0, alg.length]), alg, Buffer.alloc(8), Buffer.from([0, 0, 1, 0])])
  const cek = createHash('sha256')
    .update(Buffer.from([0, 0, 0, 1]))
    .update(z)
    .update(other)
    .digest()
  const epk = parts.epk ?? { kty: 'EC', crv: 'P-256', x: b64(epkPoint.subarray(1, 33)), y: b64(epkPoint.subarray(33)) }
  const header = { alg: 'ECDH-ES', enc: 'A256GCM', cty: 'JWT', epk, ...parts.header }
  const prot = b64(parts.headerText ? parts.headerText(header) : JSON.stringify(header))
  const iv = Buffer.alloc(parts.ivLength ?? 12, 7)
  const c = createCipheriv('aes-256-gcm', cek, iv, { authTagLength: parts.tagLength ?? 16 })
  c.setAAD(Buffer.from(prot))
  const ct = Buffer.concat([c.update(parts.plaintext), c.final()])
  return `${prot}..${b64(iv)}.${b64(ct)}.${b64(c.getAuthTag())}`
}

/** A compact JWS with any header text, signed ES256 with `key` (or HS256 with a secret, or unsigned). */
export function signJws(
  header: Record<string, unknown> | string,
  payload: Record<string, unknown> | string,
  key: KeyObject | { hmac: Uint8Array } | null,
): string {
  const h = b64(typeof header === 'string' ? header : JSON.stringify(header))
  const p = b64(typeof payload === 'string' ? payload : JSON.stringify(payload))
  const input = Buffer.from(`${h}.${p}`)
  if (key === null) return `${h}.${p}.`
  if ('hmac' in key) return `${h}.${p}.${b64(createHmac('sha256', key.hmac).update(input).digest())}`
  return `${h}.${p}.${b64(sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }))}`
}
