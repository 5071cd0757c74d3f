/** TLSA records (RFC 6698 §2, RFC 7218 mnemonics): generate from a certificate, presentation format, wire RDATA. */
import { createHash } from 'node:crypto'
import { DaneelError } from '../errors.js'
import { type Certificate, parseCertificate } from '../x509/cert.js'
import { fromHex, toHex } from '../x509/hex.js'
import type { TlsaMatchingType, TlsaRecord, TlsaSelector, TlsaUsage } from './types.js'

/** RFC 7218 §2 mnemonics; 'PKIX-CD' is the original system's private usage 4. */
export const USAGE_NAMES: Readonly<Record<TlsaUsage, string>> = { 0: 'PKIX-TA', 1: 'PKIX-EE', 2: 'DANE-TA', 3: 'DANE-EE', 4: 'PKIX-CD' }
export const SELECTOR_NAMES: Readonly<Record<TlsaSelector, string>> = { 0: 'Cert', 1: 'SPKI' }
export const MATCHING_NAMES: Readonly<Record<TlsaMatchingType, string>> = { 0: 'Full', 1: 'SHA2-256', 2: 'SHA2-512' }

/** Digest length per matching type; Full (0) has no fixed length. */
export const DIGEST_LENGTH: Readonly<Record<TlsaMatchingType, number | undefined>> = { 0: undefined, 1: 32, 2: 64 }

export function isTlsaUsage(n: number): n is TlsaUsage {
  return Number.isInteger(n) && n >= 0 && n <= 4
}
export function isTlsaSelector(n: number): n is TlsaSelector {
  return n === 0 || n === 1
}
export function isTlsaMatchingType(n: number): n is TlsaMatchingType {
  return n === 0 || n === 1 || n === 2
}

/** The bytes a selector picks from a certificate: the whole DER (0) or the SubjectPublicKeyInfo (1). */
export function selectedBytes(cert: Certificate, selector: TlsaSelector): Uint8Array {
  return selector === 0 ? cert.der : cert.spkiDer
}

/** Applies a matching type to selected bytes: Full, SHA-256 or SHA-512. */
export function matchingData(bytes: Uint8Array, matchingType: TlsaMatchingType): Uint8Array {
  if (matchingType === 0) return bytes
  return new Uint8Array(
    createHash(matchingType === 1 ? 'sha256' : 'sha512')
      .update(bytes)
      .digest(),
  )
}

/** The TLSA record for `cert` (DER or parsed) with the given parameters. */
export function makeTlsaRecord(
  cert: Uint8Array | Certificate,
  usage: TlsaUsage,
  selector: TlsaSelector,
  matchingType: TlsaMatchingType,
): TlsaRecord {
  if (!isTlsaUsage(usage) || !isTlsaSelector(selector) || !isTlsaMatchingType(matchingType)) {
    throw new DaneelError('ERR_TLSA_UNSUPPORTED', `unsupported TLSA parameters ${usage} ${selector} ${matchingType}`)
  }
  const c = cert instanceof Uint8Array ? parseCertificate(cert) : cert
  return { usage, selector, matchingType, data: matchingData(selectedBytes(c, selector), matchingType) }
}

/** Checks field ranges and digest lengths; throws ERR_TLSA_UNSUPPORTED / ERR_TLSA_INVALID. */
export function checkTlsaFields(usage: number, selector: number, matchingType: number, data: Uint8Array): TlsaRecord {
  for (const [label, v] of [
    ['usage', usage],
    ['selector', selector],
    ['matching type', matchingType],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new DaneelError('ERR_TLSA_INVALID', `TLSA ${label} must be 0-255, not ${v}`)
  }
  if (!isTlsaUsage(usage)) throw new DaneelError('ERR_TLSA_UNSUPPORTED', `unknown TLSA usage ${usage} (known: 0-3, and 4 for PKIX-CD)`)
  if (!isTlsaSelector(selector)) throw new DaneelError('ERR_TLSA_UNSUPPORTED', `unknown TLSA selector ${selector} (known: 0 Cert, 1 SPKI)`)
  if (!isTlsaMatchingType(matchingType))
    throw new DaneelError('ERR_TLSA_UNSUPPORTED', `unknown TLSA matching type ${matchingType} (known: 0 Full, 1 SHA2-256, 2 SHA2-512)`)
  if (data.length === 0) throw new DaneelError('ERR_TLSA_INVALID', 'TLSA certificate association data is empty')
  const want = DIGEST_LENGTH[matchingType]
  if (want !== undefined && data.length !== want)
    throw new DaneelError('ERR_TLSA_INVALID', `TLSA ${MATCHING_NAMES[matchingType]} data must be ${want} bytes, not ${data.length}`)
  return { usage, selector, matchingType, data }
}

function fieldNumber(token: string | undefined, names: Readonly<Record<number, string>>, label: string): number {
  if (token === undefined) throw new DaneelError('ERR_TLSA_INVALID', `TLSA record has no ${label}`)
  if (/^\d{1,3}$/.test(token)) return Number(token)
  for (const [n, name] of Object.entries(names)) if (name.toLowerCase() === token.toLowerCase()) return Number(n)
  throw new DaneelError('ERR_TLSA_INVALID', `TLSA ${label} '${token}' is not a number or a known mnemonic`)
}

/**
 * Parses presentation-format RDATA: "3 1 1 AB CD..." with the hex optionally split by whitespace (as dig prints it)
 * or wrapped in parentheses across lines (zone files). RFC 7218 mnemonics ("DANE-EE SPKI SHA2-256") are accepted.
 */
export function parseTlsaRdata(text: string): TlsaRecord {
  const tokens = text.replace(/[()]/g, ' ').trim().split(/\s+/)
  if (tokens.length < 4 || tokens[0] === '')
    throw new DaneelError('ERR_TLSA_INVALID', `TLSA record needs "usage selector matching-type hex", got '${text.trim().slice(0, 40)}'`)
  const usage = fieldNumber(tokens[0], USAGE_NAMES, 'usage')
  const selector = fieldNumber(tokens[1], SELECTOR_NAMES, 'selector')
  const matchingType = fieldNumber(tokens[2], MATCHING_NAMES, 'matching type')
  return checkTlsaFields(usage, selector, matchingType, fromHex(tokens.slice(3).join('')))
}

/** "3 1 1 HEX" with upper-case hex in one piece (what `openssl s_client -dane_tlsa_rrdata` and zone files take). */
export function formatTlsaRdata(rec: TlsaRecord): string {
  return `${rec.usage} ${rec.selector} ${rec.matchingType} ${toHex(rec.data).toUpperCase()}`
}

/**
 * The TTL every command prints on a TLSA zone-file line (identity create/tlsa/install/show/check/rotate, provisioning).
 * 300 s, not an hour: a TLSA record is what a rollover replaces, and RFC 7671 §8.1 has the next key published for at
 * least a TTL before it is used and the old one kept for a TTL after; a short TTL keeps those waits (and how long a
 * peer caches a wrong or missing record while `identity check --wait` runs) to minutes.
 */
export const DEFAULT_TLSA_TTL = 300

/** A zone-file line: `NAME. 300 IN TLSA 3 0 0 HEX`. */
export function formatTlsaZoneLine(name: string, rec: TlsaRecord, ttl = DEFAULT_TLSA_TTL): string {
  const owner = name.endsWith('.') ? name : `${name}.`
  return `${owner} ${ttl} IN TLSA ${formatTlsaRdata(rec)}`
}

/** Wire RDATA (RFC 6698 §2.1): usage, selector, matching type octets, then the data. */
export function encodeTlsaRdata(rec: TlsaRecord): Uint8Array {
  const out = new Uint8Array(3 + rec.data.length)
  out[0] = rec.usage
  out[1] = rec.selector
  out[2] = rec.matchingType
  out.set(rec.data, 3)
  return out
}

/** Decodes wire RDATA; throws ERR_TLSA_INVALID (malformed) or ERR_TLSA_UNSUPPORTED (unknown parameters): callers skip that record. */
export function decodeTlsaRdata(rdata: Uint8Array): TlsaRecord {
  if (rdata.length < 4) throw new DaneelError('ERR_TLSA_INVALID', `TLSA RDATA is ${rdata.length} bytes; at least 4 are needed`)
  // a view, not a copy: the RDATA is already the decoder's own copy, and a cached answer keeps both (bench:fleet)
  return checkTlsaFields(rdata[0] as number, rdata[1] as number, rdata[2] as number, rdata.subarray(3))
}

/** Same parameters and data. */
export function tlsaEqual(a: TlsaRecord, b: TlsaRecord): boolean {
  return a.usage === b.usage && a.selector === b.selector && a.matchingType === b.matchingType && toHex(a.data) === toHex(b.data)
}

/** "DANE-EE SPKI SHA2-256" for humans. */
export function describeTlsa(rec: TlsaRecord): string {
  return `${USAGE_NAMES[rec.usage] ?? rec.usage} ${SELECTOR_NAMES[rec.selector] ?? rec.selector} ${MATCHING_NAMES[rec.matchingType] ?? rec.matchingType}`
}
