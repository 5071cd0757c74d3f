/** A simulated fleet in one process: N node identities, each sealing its readings (seq 0..) to a recipient over its own MQTT connection. */
import { pathToFileURL } from 'node:url'
import { MqttLink } from '../messaging/mqtt.js'
import { MemoryOutbox } from '../messaging/outbox/memory.js'
import { OutboxSender } from '../messaging/sender.js'
import { peerDirectory } from '../settings/peers.js'
import { resolveSettings } from '../settings/settings.js'
import { getProvider } from '../src/crypto/get-provider.js'
import { loadIdentity } from '../src/identity/store.js'
import { silentLogger } from '../src/log.js'
import { createSealer } from '../src/message/seal.js'
import { readingLine } from './gateway-lab.js'

/*
 * One process instead of N `daneel send` processes: on a 2-core machine, twenty Node start-ups cost more CPU
 * than the readings themselves. Each node is what a device is on the wire: its own key and connection, its own
 * sequence from 0, readings paced at `rate` per second (0: as fast as the broker acknowledges). Usage:
 *   node build/testkit/fleet.js RECIPIENT PER_NODE RATE NODE... (settings from the environment, as the CLI)
 * Prints `sent N` every second and `done` when the broker acknowledged every reading. Even readings are particulate
 * (PMS5003-like), odd ones CO2 and climate (SCD41-like). With `spanSeconds` (env FLEET_SPAN_S) the issue times are
 * spread over that many past seconds, as a device flushing its outbox after an outage sends them. Sequence numbers
 * start at FLEET_SEQ_BASE (default 0), so a second run of the same nodes is not a replay.
 */
export async function runFleet(
  recipient: string,
  perNode: number,
  rate: number,
  nodes: string[],
  spanSeconds = 0,
  seqBase = 0,
): Promise<void> {
  const settings = resolveSettings({}, process.env)
  const peer = await peerDirectory(settings, silentLogger).lookup(recipient)
  const provider = getProvider('node')
  let sent = 0
  const senders = nodes.map((name, i) => {
    const sealer = createSealer({
      provider,
      senderName: name,
      senderKey: loadIdentity(settings.cryptoPath, name).privateKey,
      recipientName: recipient,
      recipientSpki: peer.spki,
    })
    const outbox = new MemoryOutbox({ maxEntries: perNode + 1 })
    const link = new MqttLink({
      url: settings.mqttUrl,
      clientId: `fleet-${i}-${process.pid}`,
      sessionExpirySeconds: 0,
      maxMessageSize: settings.maxMessageSize,
    })
    const sender = new OutboxSender(link, outbox, { window: 20 })
    link.start()
    return { sealer, outbox, link, sender }
  })
  const t0 = Date.now()
  const progress = setInterval(() => process.stdout.write(`sent ${sent}\n`), 1000)
  for (let k = 0; k < perNode; k++) {
    for (const s of senders) {
      const now = Date.now() - Math.round(spanSeconds * 1000 * (1 - (k + 1) / perNode))
      const reading = JSON.parse(readingLine(k, k % 2 === 0 ? 'pm' : 'climate')) as object
      await s.outbox.append(recipient, Buffer.from(s.sealer.seal(reading, { now, seq: seqBase + k })))
      sent++
    }
    if (rate > 0) {
      const due = t0 + ((k + 1) * 1000) / rate
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()))
    } else if (k % 10 === 9) await new Promise((r) => setImmediate(r))
  }
  for (const s of senders) while (!(await s.sender.drained(60_000))) {}
  clearInterval(progress)
  process.stdout.write('done\n')
  await Promise.all(senders.map((s) => s.link.stop()))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [recipient, perNode, rate, ...nodes] = process.argv.slice(2)
  await runFleet(
    recipient as string,
    Number(perNode),
    Number(rate),
    nodes,
    Number(process.env.FLEET_SPAN_S ?? 0),
    Number(process.env.FLEET_SEQ_BASE ?? 0),
  )
}
