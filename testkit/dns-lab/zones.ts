/** The lab's DNS tree: zones, keys (ldns-keygen), signing (ldns-signzone) and the deliberately broken RRsets. */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from './tools.js'

/** `knot: true`: signed by knotd itself (keys from keymgr): the only way to get a real NSEC3 opt-out span, as ldns-signzone -p still
 * gives every unsigned delegation its own NSEC3. */
export type ZoneKind =
  | { alg: 'RSASHA256' | 'ECDSAP256SHA256' | 'ECDSAP384SHA384' | 'ED25519'; nsec3?: boolean; optOut?: boolean; knot?: boolean }
  | 'unsigned'

/** Every zone the lab serves, parent before child (a child's DS goes into its parent). */
export const LAB_ZONES: ReadonlyArray<readonly [string, ZoneKind]> = [
  ['.', { alg: 'RSASHA256' }],
  ['test.', { alg: 'ECDSAP256SHA256', nsec3: true }],
  ['example.test.', { alg: 'ECDSAP256SHA256' }],
  ['rsa.test.', { alg: 'RSASHA256', nsec3: true }],
  ['ed.test.', { alg: 'ED25519' }],
  ['p384.test.', { alg: 'ECDSAP384SHA384' }],
  ['badds.test.', { alg: 'ECDSAP256SHA256' }],
  ['optout.test.', { alg: 'ECDSAP256SHA256', nsec3: true, optOut: true, knot: true }],
  ['insecure.test.', 'unsigned'],
  ['unsigned.optout.test.', 'unsigned'],
]

/** TTLs are short so rollover and negative-caching tests are quick: 30 s for data, 5 s negative (SOA minimum). */
export const LAB_TTL = 30
export const LAB_NEGATIVE_TTL = 5

export interface LabRecord {
  /** Absolute, lower-case owner name. */
  owner: string
  /** Upper-case type mnemonic. */
  type: string
  /** The zone-file line, owner absolute. */
  line: string
}

export interface ZoneState {
  name: string
  kind: ZoneKind
  serial: number
  records: LabRecord[]
  /** Key base names (without .key/.private) in the keys dir: [ksk, zsk]. */
  keys: string[]
}

export const stem = (zone: string): string => (zone === '.' ? 'root' : zone.replace(/\.$/, ''))

/** Absolute lower-case owner: '@' is the apex, names without a final dot are relative to the zone. */
export function absName(owner: string, zone: string): string {
  const o = owner.trim().toLowerCase()
  if (o === '@' || o === '') return zone
  if (o.endsWith('.')) return o
  return zone === '.' ? `${o}.` : `${o}.${zone}`
}

/** Parses `owner [ttl] [IN] TYPE rdata...` into a LabRecord (owner made absolute). */
export function parseLine(line: string, zone: string): LabRecord {
  const tokens = line.trim().split(/\s+/)
  const owner = absName(tokens[0] ?? '@', zone)
  let i = 1
  while (i < tokens.length && (/^\d+$/.test(tokens[i] ?? '') || /^(IN|CH|HS)$/i.test(tokens[i] ?? ''))) i++
  const type = (tokens[i] ?? '').toUpperCase()
  if (type === '' || i + 1 >= tokens.length) throw new Error(`dns-lab: cannot parse zone-file line '${line}'`)
  return { owner, type, line: [owner, ...tokens.slice(1)].join(' ') }
}

/** Builds `owner TTL IN TYPE rdata` lines; a line that already names the type is taken as a whole zone-file line. */
export function recordLines(zone: string, owner: string, type: string, lines: string[]): LabRecord[] {
  const abs = absName(owner, zone)
  const t = type.toUpperCase()
  return lines.map((l) => {
    const tokens = l.trim().split(/\s+/)
    const typeAt = tokens.findIndex((tok) => tok.toUpperCase() === t)
    if (typeAt >= 1 && typeAt <= 3 && !/^\d+$/.test(tokens[0] ?? '')) {
      const rec = parseLine(l, zone)
      if (rec.owner !== abs || rec.type !== t) throw new Error(`dns-lab: line '${l}' is not ${abs} ${t}`)
      return rec
    }
    return { owner: abs, type: t, line: `${abs} ${LAB_TTL} IN ${t} ${l.trim()}` }
  })
}

/** The zone file text for ldns-signzone (or to serve unsigned). */
export function renderZone(z: ZoneState): string {
  const ns = z.name === '.' ? 'ns1.test.' : `ns1.${z.name}`
  const rname = z.name === '.' ? 'hostmaster.test.' : `hostmaster.${z.name}`
  const head = [
    `$ORIGIN ${z.name}`,
    `$TTL ${LAB_TTL}`,
    `${z.name} ${LAB_TTL} IN SOA ${ns} ${rname} ${z.serial} 3600 600 86400 ${LAB_NEGATIVE_TTL}`,
    `${z.name} IN NS ${ns}`,
  ]
  return `${[...head, ...z.records.map((r) => r.line)].join('\n')}\n`
}

/** KSK + ZSK for a signed zone (ldns-keygen in keysDir); returns [ksk, zsk] base names. */
export async function makeKeys(keysDir: string, zone: string, alg: string): Promise<string[]> {
  const bits = alg === 'RSASHA256' ? ['-b', '2048'] : []
  const [ksk, zsk] = await Promise.all([
    run('ldns-keygen', ['-a', alg, ...bits, '-k', zone], { cwd: keysDir }),
    run('ldns-keygen', ['-a', alg, ...bits, zone], { cwd: keysDir }),
  ])
  return [ksk.trim(), zsk.trim()]
}

/** KSK + ZSK in knotd's KASP database (keymgr), for a zone knotd signs itself; returns the DS (SHA-256) line. */
export async function makeKnotKeys(keymgrConf: string, zone: string): Promise<string> {
  await run('keymgr', ['-c', keymgrConf, zone, 'generate', 'algorithm=ecdsap256sha256', 'ksk=yes', 'zsk=no'])
  await run('keymgr', ['-c', keymgrConf, zone, 'generate', 'algorithm=ecdsap256sha256', 'ksk=no', 'zsk=yes'])
  const ds = (await run('keymgr', ['-c', keymgrConf, zone, 'ds'])).split('\n').find((l) => / DS \d+ \d+ 2 /.test(l))
  if (ds === undefined) throw new Error(`dns-lab: keymgr gave no SHA-256 DS for ${zone}`)
  const t = ds.trim().split(/\s+/)
  return `${t[0]} IN DS ${t.slice(2).join(' ')}`
}

/** The DS (SHA-256) of a key, as a zone-file line from ldns-key2ds. */
export async function dsOf(keysDir: string, keyBase: string): Promise<string> {
  const tokens = (await run('ldns-key2ds', ['-n', '-2', `${keyBase}.key`], { cwd: keysDir })).trim().split(/\s+/)
  const at = tokens.indexOf('DS')
  // ldns-key2ds writes TTL 3600; drop it so the zone's short $TTL applies.
  return `${tokens[0]} IN DS ${tokens.slice(at + 1).join(' ')}`
}

/** The DNSKEY zone-file line of a key (the .key file without comments). */
export function dnskeyOf(keysDir: string, keyBase: string): string {
  return readFileSync(join(keysDir, `${keyBase}.key`), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith(';'))
    .join('\n')
}

const DAY = 86400

async function signInto(
  z: ZoneState,
  dirs: { keys: string; zones: string },
  out: string,
  inception: number,
  expiration: number,
): Promise<string> {
  if (z.kind === 'unsigned') throw new Error('unsigned zone')
  const src = join(dirs.zones, `${stem(z.name)}.zone`)
  const args = ['-i', String(inception), '-e', String(expiration), '-o', z.name, '-f', out]
  // NSEC3 per RFC 9276: no extra iterations, no salt.
  if (z.kind.nsec3 === true) args.push('-n', '-t', '0')
  if (z.kind.optOut === true) args.push('-p')
  args.push(src, ...z.keys.map((k) => join(dirs.keys, k)))
  await run('ldns-signzone', args, { cwd: dirs.keys })
  return readFileSync(out, 'utf8')
}

/**
 * Writes ZONE.signed for the server: signs it (inception now-1h, expiration now+30d) and, in example.test.,
 * breaks two RRsets on purpose: tampered._device's TLSA RDATA is altered after signing, and expired._device's
 * RRSIG is replaced by one from a signing run that expired 10 days ago.
 */
export async function writeSignedZone(z: ZoneState, dirs: { keys: string; zones: string }, nowSec: number): Promise<void> {
  const base = join(dirs.zones, stem(z.name))
  writeFileSync(`${base}.zone`, renderZone(z))
  if (z.kind === 'unsigned' || z.kind.knot === true) {
    writeFileSync(`${base}.signed`, renderZone(z))
    return
  }
  let signed = await signInto(z, dirs, `${base}.tmp`, nowSec - 3600, nowSec + 30 * DAY)
  if (z.name === 'example.test.') {
    const old = await signInto(z, dirs, `${base}.old`, nowSec - 40 * DAY, nowSec - 10 * DAY)
    const isExpiredSig = (f: string[]): boolean => f[0] === 'expired._device.example.test.' && f[3] === 'RRSIG' && f[4] === 'TLSA'
    const oldSig = old.split('\n').filter((l) => isExpiredSig(l.split(/\s+/)))
    signed = signed
      .split('\n')
      .filter((l) => !isExpiredSig(l.split(/\s+/)))
      .map((l) => {
        const f = l.split(/\s+/)
        if (f[0] !== 'tampered._device.example.test.' || f[3] !== 'TLSA') return l
        const last = l.at(-1) === '0' ? '1' : '0'
        return l.slice(0, -1) + last
      })
      .concat(oldSig)
      .join('\n')
  }
  writeFileSync(`${base}.signed`, signed)
}
