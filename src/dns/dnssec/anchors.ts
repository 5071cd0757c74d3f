/** Trust anchors: the built-in root KSK DS records (IANA root-anchors, key tags 20326 and 38696) or a DNSSEC_TRUST_ANCHORS file. */
import { DaneelError } from '../../errors.js'
import { MAX_CONFIG_FILE_BYTES, readTextBounded } from '../../read-file.js'
import { type Name, toName } from '../name.js'
import { type Rr, TYPE } from '../wire.js'

/** An anchor: DS or DNSKEY records (RDATA in wire form) for one zone. */
export interface TrustAnchor {
  zone: Name
  ds: Rr[]
  dnskeys: Rr[]
}

/** The root KSKs as DS records (Debian dns-root-data /usr/share/dns/root.ds; IANA root-anchors.xml). */
export const ROOT_ANCHORS_TEXT = `. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
. IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16
`

const bad = (line: string, why: string): never => {
  throw new DaneelError('ERR_CONFIG_INVALID', `trust anchor line '${line.slice(0, 60)}': ${why}`)
}

/**
 * Parses DS and DNSKEY records in zone-file syntax (`owner [ttl] [IN] DS|DNSKEY rdata`, one per line, `;` comments,
 * parentheses joined). Other types are ignored; no usable record is ERR_CONFIG_INVALID.
 */
export function parseTrustAnchors(text: string): TrustAnchor[] {
  const joined = text.replace(/;[^\n]*/g, '').replace(/\(([^)]*)\)/g, (_m, inner: string) => inner.replace(/\s+/g, ' '))
  const byZone = new Map<Name, TrustAnchor>()
  for (const raw of joined.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('$')) continue
    const tok = line.split(/\s+/)
    let i = 1
    while (i < tok.length && (/^\d+$/.test(tok[i] as string) || /^(IN|CH|HS)$/i.test(tok[i] as string))) i++
    const type = (tok[i] ?? '').toUpperCase()
    if (type !== 'DS' && type !== 'DNSKEY') continue
    const zone = toName(tok[0] as string)
    const f = tok.slice(i + 1)
    let rdata: Buffer
    if (type === 'DS') {
      if (f.length < 4 || !f.slice(0, 3).every((x) => /^\d+$/.test(x))) bad(line, 'expected DS keytag algorithm digesttype digest')
      const digest = f.slice(3).join('')
      if (!/^([0-9a-fA-F]{2})+$/.test(digest)) bad(line, 'digest is not hex')
      rdata = Buffer.concat([Buffer.from([Number(f[0]) >> 8, Number(f[0]) & 255, Number(f[1]), Number(f[2])]), Buffer.from(digest, 'hex')])
    } else {
      if (f.length < 4 || !f.slice(0, 3).every((x) => /^\d+$/.test(x))) bad(line, 'expected DNSKEY flags protocol algorithm key')
      const key = Buffer.from(f.slice(3).join(''), 'base64')
      if (key.length === 0) bad(line, 'empty key')
      rdata = Buffer.concat([Buffer.from([Number(f[0]) >> 8, Number(f[0]) & 255, Number(f[1]), Number(f[2])]), key])
    }
    const a = byZone.get(zone) ?? { zone, ds: [], dnskeys: [] }
    const rr: Rr = { name: zone, type: type === 'DS' ? TYPE.DS : TYPE.DNSKEY, class: 1, ttl: 0, rdata: new Uint8Array(rdata) }
    if (type === 'DS') a.ds.push(rr)
    else a.dnskeys.push(rr)
    byZone.set(zone, a)
  }
  if (byZone.size === 0) throw new DaneelError('ERR_CONFIG_INVALID', 'no DS or DNSKEY record in the trust anchors')
  return [...byZone.values()]
}

/** The anchors from a file (DNSSEC_TRUST_ANCHORS replaces the built-in ones), or the root KSKs. */
export function loadTrustAnchors(file?: string): TrustAnchor[] {
  if (file === undefined) return parseTrustAnchors(ROOT_ANCHORS_TEXT)
  let text: string
  try {
    text = readTextBounded(file, { maxBytes: MAX_CONFIG_FILE_BYTES, what: 'DNSSEC_TRUST_ANCHORS file' })
  } catch (err) {
    throw new DaneelError('ERR_CONFIG_INVALID', (err as Error).message, { cause: err })
  }
  return parseTrustAnchors(text)
}
