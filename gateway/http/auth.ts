/** Bearer-token check for the gateway's HTTP API (RFC 6750 §2.1), compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Returns a checker for `Authorization` header values. Both sides are hashed to SHA-256 first so timingSafeEqual
 * gets equal lengths and the comparison time says nothing about the token's length or its first differing byte.
 */
export function bearerChecker(token: string): (header: string | undefined) => boolean {
  const want = createHash('sha256').update(token, 'utf8').digest()
  return (header) => {
    if (header === undefined) return false
    // RFC 6750: "Bearer" is case-insensitive, one or more spaces, then the token.
    const m = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
    const got = createHash('sha256')
      .update(m?.[1] ?? '', 'utf8')
      .digest()
    return timingSafeEqual(got, want) && m !== null
  }
}

/** True for addresses that only this host can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}
