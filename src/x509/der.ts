/** Strict DER reading on top of asn1js (X.690 §10): whole input consumed, definite lengths only, typed accessors. */
import * as asn1js from 'asn1js'
import { concatBytes } from '../bytes.js'
import { DaneelError, type ErrorCode } from '../errors.js'

export type Block = asn1js.AsnType

/** Universal tag numbers we read. */
export const TAG = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  UTF8: 12,
  SEQUENCE: 16,
  SET: 17,
  PRINTABLE: 19,
  T61: 20,
  IA5: 22,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
  BMP: 30,
} as const

/** A reader that raises one error code (ERR_CERT_INVALID, ERR_CSR_INVALID, ...) with a short path for context. */
export class DerReader {
  readonly code: ErrorCode
  constructor(code: ErrorCode) {
    this.code = code
  }

  fail(what: string, cause?: unknown): never {
    throw new DaneelError(this.code, `malformed DER: ${what}`, cause === undefined ? undefined : { cause })
  }

  /** Parses one DER element that must span all of `bytes`. BER-only forms (indefinite lengths) are refused. */
  parse(bytes: Uint8Array, what: string): Block {
    if (bytes.length === 0) this.fail(`${what} is empty`)
    const res = asn1js.fromBER(bytes)
    if (res.offset === -1) this.fail(`${what}: ${res.result.error}`)
    if (res.offset !== bytes.length) this.fail(`${what} has ${bytes.length - res.offset} trailing bytes`)
    this.checkDefinite(res.result, what)
    return res.result
  }

  private checkDefinite(b: Block, what: string): void {
    if (b.lenBlock.isIndefiniteForm) this.fail(`${what} uses an indefinite length (BER, not DER)`)
    // X.690 §10.1: the length must use the fewest octets (a padded length lets one certificate have two encodings)
    const len = b.lenBlock.length
    if (b.lenBlock.blockLength !== (len < 0x80 ? 1 : 1 + Math.ceil(Math.log2(len + 1) / 8))) this.fail(`${what} has a non-minimal length`)
    const v = (b as asn1js.Constructed).valueBlock
    if (b.idBlock.isConstructed && Array.isArray(v.value)) for (const c of v.value) this.checkDefinite(c as Block, what)
  }

  /** Children of a universal SEQUENCE (or SET), with a count check. */
  seq(b: Block | undefined, what: string, min = 0, max = Number.POSITIVE_INFINITY, tag: number = TAG.SEQUENCE): Block[] {
    if (b === undefined || b.idBlock.tagClass !== 1 || b.idBlock.tagNumber !== tag)
      this.fail(`${what} is not a ${tag === TAG.SET ? 'SET' : 'SEQUENCE'}`)
    const items = (b as asn1js.Constructed).valueBlock.value as Block[]
    if (items.length < min || items.length > max) this.fail(`${what} has ${items.length} elements`)
    return items
  }

  /** Children of a context-specific constructed [n] (EXPLICIT wrapper or IMPLICIT SEQUENCE). */
  ctx(b: Block | undefined, n: number, what: string): Block[] {
    if (b === undefined || !isContext(b, n) || !b.idBlock.isConstructed) this.fail(`${what} is not [${n}]`)
    return (b as asn1js.Constructed).valueBlock.value as Block[]
  }

  oid(b: Block | undefined, what: string): string {
    if (!(b instanceof asn1js.ObjectIdentifier)) this.fail(`${what} is not an OBJECT IDENTIFIER`)
    return b.valueBlock.toString()
  }

  /** INTEGER content bytes (two's complement, as encoded). */
  intBytes(b: Block | undefined, what: string): Uint8Array {
    if (!(b instanceof asn1js.Integer)) this.fail(`${what} is not an INTEGER`)
    return new Uint8Array(b.valueBlock.valueHexView)
  }

  smallInt(b: Block | undefined, what: string): number {
    if (!(b instanceof asn1js.Integer)) this.fail(`${what} is not an INTEGER`)
    const n = Number(b.toBigInt())
    if (!Number.isSafeInteger(n) || n < 0) this.fail(`${what} is out of range`)
    return n
  }

  bool(b: Block | undefined, what: string): boolean {
    if (!(b instanceof asn1js.Boolean)) this.fail(`${what} is not a BOOLEAN`)
    return b.getValue()
  }

  octets(b: Block | undefined, what: string): Uint8Array {
    if (!(b instanceof asn1js.OctetString) || b.idBlock.isConstructed) this.fail(`${what} is not an OCTET STRING`)
    return new Uint8Array(b.valueBlock.valueHexView)
  }

  /** BIT STRING content and its unused-bit count. */
  bits(b: Block | undefined, what: string): { bytes: Uint8Array; unused: number } {
    if (!(b instanceof asn1js.BitString) || b.idBlock.isConstructed) this.fail(`${what} is not a BIT STRING`)
    return { bytes: new Uint8Array(b.valueBlock.valueHexView), unused: b.valueBlock.unusedBits }
  }

  /** UTCTime or GeneralizedTime as ms since the epoch (RFC 5280 §4.1.2.5). */
  time(b: Block | undefined, what: string): number {
    if (!(b instanceof asn1js.UTCTime) && !(b instanceof asn1js.GeneralizedTime)) this.fail(`${what} is not a time`)
    const ms = b.toDate().getTime()
    if (!Number.isFinite(ms)) this.fail(`${what} is not a valid time`)
    return ms
  }
}

/** Raw DER bytes of a parsed element (tag, length and value), e.g. the signed TBSCertificate. */
export function rawOf(b: Block): Uint8Array {
  return new Uint8Array(b.valueBeforeDecodeView)
}

export function isContext(b: Block, n: number): boolean {
  return b.idBlock.tagClass === 3 && b.idBlock.tagNumber === n
}

/** Content octets of a primitive element (for IMPLICIT [n] IA5String / OCTET STRING). */
export function primitiveContent(b: Block): Uint8Array {
  return new Uint8Array((b as asn1js.Primitive).valueBlock.valueHexView)
}

/** Decodes string-like values in a Name (UTF8String, PrintableString, IA5String, T61 as latin1, BMPString). */
export function stringValue(b: Block): string {
  if (
    b instanceof asn1js.Utf8String ||
    b instanceof asn1js.PrintableString ||
    b instanceof asn1js.IA5String ||
    b instanceof asn1js.BmpString ||
    b instanceof asn1js.UniversalString ||
    b instanceof asn1js.VisibleString ||
    b instanceof asn1js.TeletexString ||
    b instanceof asn1js.NumericString
  ) {
    return b.getValue()
  }
  return Buffer.from(primitiveContent(b)).toString('latin1')
}

/** Encodes one TLV with a definite DER length (X.690 §8.1.3): used to splice already-encoded DER without re-encoding it. */
export function encodeTlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length
  let len: number[]
  if (n < 0x80) len = [n]
  else {
    const bytes: number[] = []
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
    len = [0x80 | bytes.length, ...bytes]
  }
  const out = new Uint8Array(1 + len.length + n)
  out[0] = tag
  out.set(len, 1)
  out.set(content, 1 + len.length)
  return out
}

/** SEQUENCE of already-encoded elements. */
export function derSequence(...elements: Uint8Array[]): Uint8Array {
  return encodeTlv(0x30, concatBytes(...elements))
}

/** DER of an asn1js value built in code. */
export function toDer(b: { toBER(): ArrayBuffer }): Uint8Array {
  return new Uint8Array(b.toBER())
}
