/** PEM armour (RFC 7468): decode every block of a label, encode DER with 64-column base64 lines. */
import { DaneelError } from '../errors.js'

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g
const B64 = /^[A-Za-z0-9+/]*={0,2}$/

export interface PemBlock {
  readonly label: string
  readonly der: Uint8Array
}

/** Every PEM block in `text`, in order. Text between blocks (openssl's "subject=" lines) is ignored, as RFC 7468 §2 allows. */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = []
  for (const m of text.matchAll(BLOCK)) {
    const [, begin, body = '', end] = m
    if (begin !== end) throw new DaneelError('ERR_PEM_INVALID', `PEM block BEGIN ${begin} ends with END ${end}`)
    // RFC 7468 §5.2 allows headers in legacy encrypted keys ("Proc-Type:"); we never accept those
    if (body.includes(':')) throw new DaneelError('ERR_PEM_INVALID', `PEM block ${begin} has headers (encrypted legacy key?)`)
    const b64 = body.replace(/\s+/g, '')
    if (b64.length === 0 || b64.length % 4 !== 0 || !B64.test(b64))
      throw new DaneelError('ERR_PEM_INVALID', `PEM block ${begin} is not valid base64`)
    out.push({ label: begin as string, der: new Uint8Array(Buffer.from(b64, 'base64')) })
  }
  if (out.length === 0 && text.includes('-----BEGIN'))
    throw new DaneelError('ERR_PEM_INVALID', 'PEM block is truncated (no matching END line)')
  return out
}

/** DER of every block labelled `label` (all blocks when no label is given). ERR_PEM_INVALID when there is none. */
export function pemDecode(text: string, label?: string): Uint8Array[] {
  const blocks = pemBlocks(text).filter((b) => label === undefined || b.label === label)
  if (blocks.length === 0) throw new DaneelError('ERR_PEM_INVALID', `no PEM ${label ?? ''} block found`.replace('  ', ' '))
  return blocks.map((b) => b.der)
}

/** PEM text for `der` under `label`, ending in a newline. */
export function pemEncode(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}
