/** The demo's in-process MQTT broker: aedes (MQTT 3.1.1) on 127.0.0.1 at a free port. */
import { createServer, type Server, type Socket } from 'node:net'
import { Aedes } from 'aedes'

export interface DemoBroker {
  readonly url: string
  readonly port: number
  /** Messages the broker has routed (for the demo's summary line). */
  readonly published: () => number
  close(): Promise<void>
}

/**
 * aedes 1.x speaks MQTT 3.1.1 only (a v5 CONNECT is refused: moscajs/aedes README), so the demo's clients connect
 * with protocol version 4. Nothing is persisted: the demo's durability lives in each node's own outbox.
 */
export async function startBroker(host = '127.0.0.1'): Promise<DemoBroker> {
  const broker = await Aedes.createBroker()
  let published = 0
  broker.on('publish', (packet, client) => {
    if (client !== null && client !== undefined && !packet.topic.startsWith('$SYS')) published++
  })
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    broker.handle(socket)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  const addr = server.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0
  return {
    url: `mqtt://${host}:${port}`,
    port,
    published: () => published,
    async close(): Promise<void> {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
      await new Promise<void>((r) => broker.close(() => r()))
    },
  }
}
