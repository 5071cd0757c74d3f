/** Identity names `${DEVICE_ID}._device.${DOMAIN}`, x5u DNS URIs (RFC 4501 form) and the trusted-domain rule (docs/contract.md). */
import { DaneelError } from '../errors.js'

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/

/** Lower-cases, strips one trailing dot and checks DNS length rules (RFC 1035 §2.3.4). Returns the labels. */
function dnsLabels(input: string, code: 'ERR_NAME_INVALID' | 'ERR_X5U_INVALID'): string[] {
  const name = input.trim().toLowerCase().replace(/\.$/, '')
  if (name.length === 0) throw new DaneelError(code, 'name is empty')
  if (name.length > 253) throw new DaneelError(code, `name is longer than 253 characters (${name.length})`)
  const labels = name.split('.')
  for (const l of labels) {
    if (!LABEL.test(l))
      throw new DaneelError(code, `'${input.trim()}' has an invalid label '${l}' (letters, digits, '-', '_'; 1-63 characters)`)
  }
  return labels
}

/** Normalises a DNS name (lower case, no trailing dot) or throws ERR_NAME_INVALID. */
export function normalizeDnsName(name: string): string {
  return dnsLabels(name, 'ERR_NAME_INVALID').join('.')
}

/**
 * Parses an identity name: `${DEVICE_ID}._device.${DOMAIN}`, DEVICE_ID one or more labels, DOMAIN at least one.
 * Returns the normalised name (lower case, no trailing dot); ERR_NAME_INVALID otherwise.
 */
export function parseIdentityName(name: string): string {
  const labels = dnsLabels(name, 'ERR_NAME_INVALID')
  const i = labels.lastIndexOf('_device')
  if (i < 1 || i === labels.length - 1) {
    throw new DaneelError('ERR_NAME_INVALID', `'${name.trim()}' is not an identity name of the form DEVICE_ID._device.DOMAIN`)
  }
  return labels.join('.')
}

/** The parts of an identity name. */
export function splitIdentityName(name: string): { name: string; deviceId: string; domain: string } {
  const n = parseIdentityName(name)
  const labels = n.split('.')
  const i = labels.lastIndexOf('_device')
  return { name: n, deviceId: labels.slice(0, i).join('.'), domain: labels.slice(i + 1).join('.') }
}

/** What follows the rightmost underscore label (the PKIX-CD domain, docs/contract.md "PKIX-CD"). ERR_NAME_INVALID when none. */
export function identityDomain(name: string): string {
  const labels = dnsLabels(name, 'ERR_NAME_INVALID')
  let i = -1
  labels.forEach((l, k) => {
    if (l.startsWith('_')) i = k
  })
  if (i < 0 || i === labels.length - 1) throw new DaneelError('ERR_NAME_INVALID', `'${name}' has no underscore label followed by a domain`)
  return labels.slice(i + 1).join('.')
}

/** `dns://<name>?type=TLSA`, the x5u of a daneel JOSE header. */
export function formatX5u(name: string): string {
  return `dns://${normalizeDnsName(name)}?type=TLSA`
}

/**
 * Parses an x5u DNS URI: `dns://name?type=TLSA`, `dns:name?type=TLSA` or `dns://authority/name?type=TLSA`
 * (the authority, a resolver to ask, is ignored: we use our own validated resolver). An optional `class=IN` is
 * allowed (RFC 4501 §2). Returns the normalised name; ERR_X5U_INVALID otherwise.
 */
export function parseX5u(uri: string): string {
  if (typeof uri !== 'string') throw new DaneelError('ERR_X5U_INVALID', 'x5u is not a string')
  const m = /^dns:(\/\/([^/?#]*)\/)?(\/\/)?([^?#]+)\?([^#]*)$/i.exec(uri.trim())
  if (m === null) throw new DaneelError('ERR_X5U_INVALID', `x5u '${uri.slice(0, 80)}' is not a dns: URI with ?type=TLSA`)
  const namePart = m[4] as string
  if (namePart.includes('/') || namePart.includes('%'))
    throw new DaneelError('ERR_X5U_INVALID', `x5u '${uri.slice(0, 80)}' has an unsupported name form`)
  let typeOk = false
  for (const param of (m[5] as string).split(/[;&]/)) {
    const [k = '', v = ''] = param.split('=')
    if (k.toLowerCase() === 'type' && v.toUpperCase() === 'TLSA') typeOk = true
    else if (k.toLowerCase() === 'class' && v.toUpperCase() === 'IN') continue
    else throw new DaneelError('ERR_X5U_INVALID', `x5u parameter '${param}' is not type=TLSA or class=IN`)
  }
  if (!typeOk) throw new DaneelError('ERR_X5U_INVALID', 'x5u does not ask for type=TLSA')
  return dnsLabels(namePart, 'ERR_X5U_INVALID').join('.')
}

/**
 * True when `name` is one of `trustedDomains` or under one, label-wise and case-insensitively
 * ("evilexample.com" is not under "example.com"). An empty list trusts nobody: callers decide the default.
 */
export function isTrustedSender(name: string, trustedDomains: readonly string[]): boolean {
  const n = name.trim().toLowerCase().replace(/\.$/, '')
  if (n === '') return false
  for (const raw of trustedDomains) {
    const d = raw.trim().toLowerCase().replace(/^\.+/, '').replace(/\.$/, '')
    if (d === '') continue
    if (n === d || n.endsWith(`.${d}`)) return true
  }
  return false
}
