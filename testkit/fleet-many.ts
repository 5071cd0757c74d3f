/** A simulated node process holding many device identities: each seals its own readings, all share one MQTT connection. */
import { type ChildProcess, spawn } from 'node:child_process'
import { createPrivateKey } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { MqttLink } from '../messaging/mqtt.js'
import { MemoryOutbox } from '../messaging/outbox/memory.js'
import { OutboxSender } from '../messaging/sender.js'
import { peerDirectory } from '../settings/peers.js'
import { resolveSettings } from '../settings/settings.js'
import { getProvider } from '../src/crypto/get-provider.js'
import { formatTlsaRdata, makeTlsaRecord } from '../src/dane/tlsa.js'
import { silentLogger } from '../src/log.js'
import { createSealer, type Sealer } from '../src/message/seal.js'
import { buildSelfSignedCertificate } from '../src/x509/build.js'
import { generateKeyPair } from '../src/x509/keys.js'
import { GATEWAY, type GatewayLab, readingLine } from './gateway-lab.js'
import { repoPath } from './paths.js'

/*
 * testkit/fleet.ts gives every node its own connection; at 10,000 devices that is 10,000 sockets and as many
 * MQTT.js clients in one process. Here a process carries many identities over one link, as a field gateway
 * relaying for battery nodes would: what reaches the broker is the same (each reading sealed and signed by its
 * own device key, its own sequence), only the TCP connection is shared. Usage:
 *   node build/testkit/fleet-many.js KEYS_FILE RECIPIENT   (settings from the environment, as the CLI)
 * KEYS_FILE: one `NAME PKCS8_DER_BASE64` line per identity. Commands on stdin, one per line:
 *   `rounds FROM TO`  every identity sends readings seq FROM..TO-1 (round by round, as fast as the broker
 *                     acknowledges); prints `round K` as each round has been handed to the outbox and
 *                     `done TO` once the broker acknowledged all of them.
 *   `quit`            disconnects and exits.
 * Prints `ready` once the keys are imported and the link is up.
 */
export async function runFleetMany(keysFile: string, recipient: string): Promise<void> {
  const settings = resolveSettings({}, process.env)
  const peer = await peerDirectory(settings, silentLogger).lookup(recipient)
  const provider = getProvider('node')
  const devices: Array<{ name: string; sealer: Sealer }> = readFileSync(keysFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [name, pkcs8] = line.split(' ') as [string, string]
      const senderKey = createPrivateKey({ key: Buffer.from(pkcs8, 'base64'), format: 'der', type: 'pkcs8' })
      return { name, sealer: createSealer({ provider, senderName: name, senderKey, recipientName: recipient, recipientSpki: peer.spki }) }
    })
  const outbox = new MemoryOutbox({ maxEntries: 4 * devices.length + 16 })
  const link = new MqttLink({
    url: settings.mqttUrl,
    clientId: `fleet-many-${process.pid}`,
    sessionExpirySeconds: 0,
    maxMessageSize: settings.maxMessageSize,
  })
  const sender = new OutboxSender(link, outbox, { window: 20 })
  link.start()
  await new Promise<void>((r) => (link.connected ? r() : link.once('up', () => r())))
  process.stdout.write('ready\n')

  const rounds = async (from: number, to: number): Promise<void> => {
    for (let seq = from; seq < to; seq++) {
      for (const [i, d] of devices.entries()) {
        const reading = JSON.parse(readingLine(seq, (seq + i) % 2 === 0 ? 'pm' : 'climate')) as object
        await outbox.append(recipient, Buffer.from(d.sealer.seal(reading, { now: Date.now(), seq })))
        // Bounded: at most two rounds wait in the outbox; sealing yields so the link keeps sending.
        while (outbox.pending > 2 * devices.length) await new Promise((r) => setTimeout(r, 5))
        if (i % 32 === 31) await new Promise((r) => setImmediate(r))
      }
      process.stdout.write(`round ${seq}\n`)
    }
    while (!(await sender.drained(60_000))) {}
    process.stdout.write(`done ${to}\n`)
  }

  let work: Promise<void> = Promise.resolve()
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, a, b] = line.trim().split(/\s+/)
    if (cmd === 'rounds') work = work.then(() => rounds(Number(a), Number(b)))
    if (cmd === 'quit') break
  }
  await work
  await link.stop()
}

/** A testkit/fleet-many.ts process; `rounds(from, to)` resolves when the broker acknowledged them all. */
export function startSimulator(
  w: GatewayLab,
  keysFile: string,
): { proc: ChildProcess; ready: Promise<void>; rounds(a: number, b: number): Promise<void> } {
  const proc = spawn(process.execPath, [repoPath('build/testkit/fleet-many.js'), keysFile, GATEWAY], {
    env: { ...w.env, LOG_LEVEL: 'error' },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  w.children.push(proc)
  const waiting = new Map<string, () => void>()
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => waiting.get(l)?.())
  const expect = (line: string): Promise<void> =>
    new Promise((resolve, reject) => {
      waiting.set(line, resolve)
      proc.once('exit', (code) => reject(new Error(`simulator exited (${code}) before '${line}'`)))
    })
  return {
    proc,
    ready: expect('ready'),
    rounds: (a, b) => {
      const done = expect(`done ${b}`)
      proc.stdin?.write(`rounds ${a} ${b}\n`)
      return done
    },
  }
}

/** Keys and `3 1 0` records for `names`, split into `files` simulator key files. */
export function makeDevices(dir: string, names: string[], files: number, ttl: number): { lines: string[]; keyFiles: string[] } {
  const lines: string[] = []
  const keys: string[][] = Array.from({ length: files }, () => [])
  for (const [i, n] of names.entries()) {
    const { privateKey } = generateKeyPair('p256')
    const cert = buildSelfSignedCertificate({ name: n, key: privateKey, days: 30 })
    lines.push(`${n.replace(/\.example\.test$/, '')} ${ttl} IN TLSA ${formatTlsaRdata(makeTlsaRecord(cert, 3, 1, 0))}`)
    keys[i % files]?.push(`${n} ${privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64')}`)
  }
  const keyFiles = keys.map((k, i) => {
    const f = join(dir, `${names[0]?.[0]}-keys-${i}.txt`)
    writeFileSync(f, `${k.join('\n')}\n`, { mode: 0o600 })
    return f
  })
  return { lines, keyFiles }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [keysFile, recipient] = process.argv.slice(2)
  await runFleetMany(keysFile as string, recipient as string)
}
