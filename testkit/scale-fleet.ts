/** Simulated nodes for the scale tests: P-256 identities, a fleet file for workers, sealed readings to publish. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { nodeProvider } from '../src/crypto/node.js'
import { createSealer, type Sealer } from '../src/message/seal.js'
import type { FleetFile } from './scale-worker.js'

export interface Fleet {
  recipient: string
  recipientKey: KeyObject
  recipientSpki: Uint8Array
  nodes: { name: string; sealer: Sealer; spki: Uint8Array }[]
}

const spkiOf = (k: KeyObject): Uint8Array => new Uint8Array(k.export({ format: 'der', type: 'spki' }))

/** `count` nodes `nN.sim.airquality._device.example.com` sealing to one gateway identity. */
export function makeFleet(count: number, recipient = 'gw.sim.airquality._device.example.com'): Fleet {
  const r = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const recipientSpki = spkiOf(r.publicKey)
  const nodes = Array.from({ length: count }, (_, i) => {
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const name = `n${i}.sim.airquality._device.example.com`
    const sealer = createSealer({
      provider: nodeProvider,
      senderName: name,
      senderKey: k.privateKey,
      recipientName: recipient,
      recipientSpki,
    })
    return { name, sealer, spki: spkiOf(k.publicKey) }
  })
  return { recipient, recipientKey: r.privateKey, recipientSpki, nodes }
}

/** The file a worker (testkit/scale-worker.ts) reads: our key and the senders' keys (the test's DNS). */
export function writeFleet(path: string, f: Fleet): void {
  const file: FleetFile = {
    recipient: f.recipient,
    recipientKeyPem: f.recipientKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    senders: f.nodes.map((n) => ({ name: n.name, spki: Buffer.from(n.spki).toString('base64') })),
  }
  writeFileSync(path, JSON.stringify(file), { mode: 0o600 })
}

/** Reading `seq` of node `i`: one PMS5003-like sample; `i`/`seq` let a test find it in the store. */
export function sealReading(f: Fleet, i: number, seq: number, now: number): string {
  const node = f.nodes[i]
  if (node === undefined) throw new RangeError(`no node ${i}`)
  return node.sealer.seal({ sensor: 'pms5003-0', model: 'PMS5003', pm25: (seq % 40) + 0.5, node: i }, { now, seq })
}
