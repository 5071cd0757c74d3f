/** A DNSSEC-signed DNS tree on one knotd (127.0.0.1, free port, temp dir) for integration tests; see README in dns-lab/. */
import { createHash, randomInt, X509Certificate } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type KnotHandle, reloadZone, removeOnExit, startKnot, stopKnot, writeKeymgrConf } from './dns-lab/knot.js'
import { run } from './dns-lab/tools.js'
import {
  absName,
  dnskeyOf,
  dsOf,
  LAB_ZONES,
  type LabRecord,
  makeKeys,
  makeKnotKeys,
  parseLine,
  recordLines,
  writeSignedZone,
  type ZoneState,
} from './dns-lab/zones.js'

export { LAB_NEGATIVE_TTL, LAB_TTL, LAB_ZONES } from './dns-lab/zones.js'

export interface DnsLabOptions {
  /** Extra zone-file lines per zone (e.g. 'example.test.' → ['dev1.airquality._device IN TLSA 3 1 1 ab..']). */
  records?: Record<string, string[]>
}

export interface LabCert {
  certFile: string
  keyFile: string
  pem: string
  /** TLSA RDATA (presentation form) for this certificate. */
  tlsa300: string
  tlsa311: string
}

export interface DnsLab {
  host: '127.0.0.1'
  port: number
  /** "127.0.0.1:PORT", for DNS_SERVER / --dns. */
  server: string
  /** "[::1]:PORT": the same server over IPv6. */
  server6: string
  /** The lab root's DS and DNSKEY (KSK) in zone-file syntax, for DNSSEC_TRUST_ANCHORS. */
  trustAnchorsFile: string
  /** The same root anchor for delv (`delv -a FILE +root=.`). */
  delvAnchorsFile: string
  dir: string
  /** dev1: P-256 (published in every zone), dev2: RSA-2048 (its `3 0 0` in rsa.test. truncates over UDP). */
  certs: { dev1: LabCert; dev2: LabCert }
  /** Replaces an RRset (lines: RDATA, or whole zone-file lines), re-signs the zone, reloads, waits until served. */
  setRecords(zone: string, owner: string, type: string, lines: string[]): Promise<void>
  removeRecords(zone: string, owner: string, type: string): Promise<void>
  /** Stops knotd and leaves the port closed (DNS down); records cannot be changed until `up()`. */
  down(): Promise<void>
  /** Starts knotd again on the same port with the zones as they were; resolves once it serves them. */
  up(): Promise<void>
  stop(): Promise<void>
}

async function makeCert(dir: string, name: string, keyAlg: 'ec' | 'rsa', fqdn: string): Promise<LabCert> {
  const keyFile = join(dir, `${name}.key.pem`)
  const certFile = join(dir, `${name}.crt.pem`)
  const keyOpts = keyAlg === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048']
  await run('openssl', [
    'req',
    '-x509',
    ...keyOpts,
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '30',
    '-subj',
    `/CN=${fqdn}`,
    '-addext',
    `subjectAltName=DNS:${fqdn}`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
  ])
  const pem = readFileSync(certFile, 'utf8')
  const x = new X509Certificate(pem)
  const spki = x.publicKey.export({ type: 'spki', format: 'der' })
  return {
    certFile,
    keyFile,
    pem,
    tlsa300: `3 0 0 ${x.raw.toString('hex')}`,
    tlsa311: `3 1 1 ${createHash('sha256').update(spki).digest('hex')}`,
  }
}

/** The fixed content of each zone (delegations, DS, TLSA test cases). */
function baseRecords(zone: string, certs: { dev1: LabCert; dev2: LabCert }, ds: Map<string, string[]>): string[] {
  const { dev1, dev2 } = certs
  const deleg = (child: string): string[] => [`${child} IN NS ns1.${child}`, `ns1.${child} IN A 127.0.0.1`, ...(ds.get(child) ?? [])]
  const devs = [
    `dev1._device IN TLSA ${dev1.tlsa300}`,
    `dev1._device IN TLSA ${dev1.tlsa311}`,
    `dev2._device IN TLSA ${dev2.tlsa300}`,
    `dev2._device IN TLSA ${dev2.tlsa311}`,
  ]
  switch (zone) {
    case '.':
      return ['ns1.test. IN A 127.0.0.1', 'test. IN NS ns1.test.', ...(ds.get('test.') ?? [])]
    case 'test.':
      return ['ns1 IN A 127.0.0.1', ...['example', 'rsa', 'ed', 'p384', 'badds', 'insecure', 'optout'].flatMap((c) => deleg(`${c}.test.`))]
    case 'example.test.':
      return [
        'ns1 IN A 127.0.0.1',
        'device IN A 127.0.0.1',
        ...devs,
        `roll._device IN TLSA ${dev1.tlsa311}`,
        `roll._device IN TLSA ${dev2.tlsa311}`,
        'alias._device IN CNAME dev1._device',
        'xzone._device IN CNAME dev1._device.ed.test.',
        'toinsecure._device IN CNAME dev1._device.insecure.test.',
        `*.wild._device IN TLSA ${dev1.tlsa311}`,
        `tampered._device IN TLSA ${dev1.tlsa311}`,
        `expired._device IN TLSA ${dev1.tlsa311}`,
      ]
    case 'optout.test.':
      return ['ns1 IN A 127.0.0.1', ...devs, ...deleg('unsigned.optout.test.')]
    default:
      return ['ns1 IN A 127.0.0.1', 'device IN A 127.0.0.1', ...devs]
  }
}

/** Builds keys, certificates and zones in a fresh temp dir, signs them and starts knotd. */
export async function startDnsLab(opts: DnsLabOptions = {}): Promise<DnsLab> {
  const dir = mkdtempSync(join(tmpdir(), 'daneel-dnslab-'))
  removeOnExit(dir, true)
  let knot: KnotHandle | undefined
  try {
    const dirs = { keys: join(dir, 'keys'), zones: join(dir, 'zones'), certs: join(dir, 'certs') }
    for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true })
    for (const z of Object.keys(opts.records ?? {})) {
      if (!LAB_ZONES.some(([n]) => n === absName(z, '.'))) throw new Error(`dns-lab: no zone ${z} in the lab`)
    }
    const [dev1, dev2, ...keys] = await Promise.all([
      makeCert(dirs.certs, 'dev1', 'ec', 'dev1._device.example.test'),
      makeCert(dirs.certs, 'dev2', 'rsa', 'dev2._device.example.test'),
      ...LAB_ZONES.map(([z, k]) => (k === 'unsigned' || k.knot === true ? Promise.resolve([]) : makeKeys(dirs.keys, z, k.alg))),
      makeKeys(dirs.keys, 'badds.test.', 'ECDSAP256SHA256'), // the decoy: its KSK's DS goes into test.
    ])
    const certs = { dev1: dev1 as LabCert, dev2: dev2 as LabCert }
    const decoy = keys.pop() as string[]
    const zoneKeys = keys as string[][]
    const ds = new Map<string, string[]>()
    const keymgrConf = writeKeymgrConf(dir, dirs.zones)
    for (const [i, [z, k]] of LAB_ZONES.entries()) {
      if (k === 'unsigned') continue
      if (k.knot === true) {
        ds.set(z, [await makeKnotKeys(keymgrConf, z)])
        continue
      }
      const ksk = z === 'badds.test.' ? decoy[0] : zoneKeys[i]?.[0]
      ds.set(z, [await dsOf(dirs.keys, ksk as string)])
    }
    // Serials are random per lab, so a test never mistakes another lab's knotd (on a reused port) for its own.
    const serialBase = 1_000_000_000 + randomInt(0, 1_000_000_000)
    const zones = new Map<string, ZoneState>()
    const nowSec = Math.floor(Date.now() / 1000)
    for (const [i, [name, kind]] of LAB_ZONES.entries()) {
      const lines = [...baseRecords(name, certs, ds), ...(opts.records?.[name] ?? [])]
      const z: ZoneState = { name, kind, serial: serialBase, records: lines.map((l) => parseLine(l, name)), keys: zoneKeys[i] ?? [] }
      zones.set(name, z)
    }
    await Promise.all([...zones.values()].map((z) => writeSignedZone(z, dirs, nowSec)))

    const rootKsk = zoneKeys[0]?.[0] as string
    const trustAnchorsFile = join(dir, 'trust-anchors.txt')
    const rootDs = (ds.get('.') ?? [])[0] as string
    writeFileSync(trustAnchorsFile, `; lab root KSK\n${rootDs}\n${dnskeyOf(dirs.keys, rootKsk)}\n`)
    const [, , , tag, alg, dt, digest] = rootDs.split(/\s+/) // '. IN DS tag alg digestType digest'
    const delvAnchorsFile = join(dir, 'delv-anchors.conf')
    writeFileSync(delvAnchorsFile, `trust-anchors {\n  "." static-ds ${tag} ${alg} ${dt} "${digest}";\n};\n`)

    knot = await startKnot(dir, dirs.zones, serialBase)
    let k = knot
    let queue: Promise<void> = Promise.resolve()
    // Changes are serialised: each re-signs one zone and waits for its new serial.
    const change = (zone: string, mutate: (z: ZoneState) => void): Promise<void> => {
      const next = queue.then(async () => {
        const z = zones.get(absName(zone, '.'))
        if (z === undefined) throw new Error(`dns-lab: no zone ${zone} in the lab`)
        mutate(z)
        z.serial++
        await writeSignedZone(z, dirs, Math.floor(Date.now() / 1000))
        await reloadZone(k, z.name, z.serial)
      })
      queue = next.catch(() => undefined)
      return next
    }
    const keep = (z: ZoneState, owner: string, type: string): LabRecord[] => {
      const abs = absName(owner, z.name)
      return z.records.filter((r) => !(r.owner === abs && r.type === type.toUpperCase()))
    }
    return {
      host: '127.0.0.1',
      port: k.port,
      server: `127.0.0.1:${k.port}`,
      server6: `[::1]:${k.port}`,
      trustAnchorsFile,
      delvAnchorsFile,
      dir,
      certs,
      setRecords: (zone, owner, type, lines) =>
        change(zone, (z) => {
          z.records = [...keep(z, owner, type), ...recordLines(z.name, owner, type, lines)]
        }),
      removeRecords: (zone, owner, type) =>
        change(zone, (z) => {
          z.records = keep(z, owner, type)
        }),
      down: () => stopKnot(k),
      up: async () => {
        if (k.proc.exitCode === null && k.proc.signalCode === null) return
        k = await startKnot(dir, dirs.zones, zones.get('.')?.serial ?? serialBase, k.port)
      },
      stop: async () => {
        await stopKnot(k)
        rmSync(dir, { recursive: true, force: true })
        removeOnExit(dir, false)
      },
    }
  } catch (err) {
    if (knot !== undefined) await stopKnot(knot)
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}
