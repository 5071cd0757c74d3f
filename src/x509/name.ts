/** X.501 distinguished names (RFC 5280 §4.1.2.4): read attributes and text form, build a CN-only name. */
import * as asn1js from 'asn1js'
import { type Block, type DerReader, stringValue, TAG } from './der.js'
import { ATTRIBUTE_NAMES, OID } from './oids.js'

export interface NameAttribute {
  readonly oid: string
  readonly value: string
}

/** Attributes of a Name in encoding order (multi-valued RDNs flattened). */
export function readName(r: DerReader, b: Block | undefined, what: string): NameAttribute[] {
  const out: NameAttribute[] = []
  for (const rdn of r.seq(b, what)) {
    for (const atv of r.seq(rdn, `${what} RDN`, 1, Number.POSITIVE_INFINITY, TAG.SET)) {
      const [type, value] = r.seq(atv, `${what} attribute`, 2, 2)
      if (value === undefined) r.fail(`${what} attribute has no value`)
      out.push({ oid: r.oid(type, `${what} attribute type`), value: stringValue(value) })
    }
  }
  return out
}

/** "CN=a, O=b" text in encoding order (openssl's -nameopt oneline order), for display and logs only. */
export function formatName(attrs: readonly NameAttribute[]): string {
  return attrs.map((a) => `${ATTRIBUTE_NAMES[a.oid] ?? a.oid}=${a.value}`).join(', ')
}

/** The first commonName value, if any. */
export function commonNameOf(attrs: readonly NameAttribute[]): string | undefined {
  return attrs.find((a) => a.oid === OID.commonName)?.value
}

/** A Name with one RDN, CN as UTF8String (what `openssl req -subj /CN=...` writes by default). */
export function buildCnName(cn: string): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.Set({
        value: [
          new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.commonName }), new asn1js.Utf8String({ value: cn })] }),
        ],
      }),
    ],
  })
}
