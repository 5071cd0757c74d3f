/** Certificate extensions daneel reads (RFC 5280 §4.2.1): SAN dNSName, SKI, AKI, BasicConstraints, KeyUsage, EKU. */
import { type Block, type DerReader, isContext, primitiveContent } from './der.js'
import { KEY_USAGE_BITS, type KeyUsageName, OID } from './oids.js'

export interface BasicConstraints {
  readonly ca: boolean
  readonly pathLen?: number
}

export interface ParsedExtensions {
  dnsNames: string[]
  ski?: Uint8Array
  aki?: Uint8Array
  basicConstraints?: BasicConstraints
  keyUsage?: Set<KeyUsageName>
  extKeyUsage?: string[]
  /** OIDs of critical extensions we do not understand: a path validator must reject the certificate (RFC 5280 §4.2). */
  unknownCritical: string[]
}

const KNOWN = new Set<string>([
  OID.subjectKeyIdentifier,
  OID.keyUsage,
  OID.subjectAltName,
  OID.basicConstraints,
  OID.authorityKeyIdentifier,
  OID.extKeyUsage,
])

/** Reads an Extensions SEQUENCE (the content of TBSCertificate [3] or a CSR's extensionRequest). */
export function readExtensions(r: DerReader, b: Block | undefined): ParsedExtensions {
  const out: ParsedExtensions = { dnsNames: [], unknownCritical: [] }
  const seen = new Set<string>()
  for (const ext of r.seq(b, 'extensions', 1)) {
    const items = r.seq(ext, 'extension', 2, 3)
    const oid = r.oid(items[0], 'extension id')
    const critical = items.length === 3 ? r.bool(items[1], 'extension critical flag') : false
    const value = r.octets(items[items.length - 1], 'extension value')
    // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular extension"
    if (seen.has(oid)) r.fail(`extension ${oid} appears twice`)
    seen.add(oid)
    if (!KNOWN.has(oid)) {
      if (critical) out.unknownCritical.push(oid)
      continue
    }
    const inner = r.parse(value, `extension ${oid}`)
    switch (oid) {
      case OID.subjectAltName:
        for (const gn of r.seq(inner, 'subjectAltName')) {
          // dNSName [2] IMPLICIT IA5String; other name forms are not identities here
          if (isContext(gn, 2) && !gn.idBlock.isConstructed) out.dnsNames.push(Buffer.from(primitiveContent(gn)).toString('latin1'))
        }
        break
      case OID.subjectKeyIdentifier:
        out.ski = r.octets(inner, 'subjectKeyIdentifier')
        break
      case OID.authorityKeyIdentifier:
        for (const f of r.seq(inner, 'authorityKeyIdentifier', 0, 3)) {
          if (isContext(f, 0) && !f.idBlock.isConstructed) out.aki = primitiveContent(f)
        }
        break
      case OID.basicConstraints: {
        const f = r.seq(inner, 'basicConstraints', 0, 2)
        let i = 0
        let ca = false
        if (f[0] !== undefined && f[0].idBlock.tagNumber === 1 && f[0].idBlock.tagClass === 1) {
          ca = r.bool(f[0], 'basicConstraints cA')
          i = 1
        }
        const pathLen = f[i] === undefined ? undefined : r.smallInt(f[i], 'basicConstraints pathLenConstraint')
        out.basicConstraints = pathLen === undefined ? { ca } : { ca, pathLen }
        break
      }
      case OID.keyUsage: {
        const { bytes, unused } = r.bits(inner, 'keyUsage')
        const set = new Set<KeyUsageName>()
        KEY_USAGE_BITS.forEach((name, bit) => {
          const byte = bytes[bit >> 3]
          if (byte !== undefined && (bit >> 3 < bytes.length - 1 || (bit & 7) < 8 - unused) && (byte & (0x80 >> (bit & 7))) !== 0)
            set.add(name)
        })
        out.keyUsage = set
        break
      }
      case OID.extKeyUsage:
        out.extKeyUsage = r.seq(inner, 'extKeyUsage', 1).map((o) => r.oid(o, 'extKeyUsage purpose'))
        break
    }
  }
  return out
}
