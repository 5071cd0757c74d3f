/** Server-sent events (HTML Living Standard §9.2) for live readings: one hub, a bounded buffer per client, slow clients dropped. */
import type { ServerResponse } from 'node:http'
import type { ReadingRow } from '../store/types.js'

export interface EventHubOptions {
  /**
   * Bytes a client may have queued (written but not yet taken by the socket) before it is dropped. One publish
   * burst (a committed batch: ~350 bytes a reading) must fit, or every client would be dropped by the burst itself.
   */
  maxBufferedBytes?: number
  /** At most this many clients; more get 503. */
  maxClients?: number
  /** Comment line every this many ms so proxies keep the stream open; 0 disables. */
  heartbeatMs?: number
}

interface Client {
  res: ServerResponse
  /** Only this node's readings, or all. */
  node: string | null
}

/**
 * A publish() fans one reading out to every client as `event: reading`. The message text is built once per
 * reading, not per client. A client whose socket cannot keep up (more than maxBufferedBytes queued in Node's
 * writable buffer) is ended: the gateway's memory stays bounded whatever the clients do, and an EventSource
 * reconnects by itself and reloads the recent history.
 */
export class EventHub {
  readonly maxBufferedBytes: number
  readonly maxClients: number
  private readonly clients = new Set<Client>()
  private readonly heartbeat: NodeJS.Timeout | null
  /** Clients dropped for being slow (exported as a figure for /metrics and tests). */
  dropped = 0

  constructor(opts: EventHubOptions = {}) {
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 1024 * 1024
    // 32 clients x 1 MiB bounds the worst case at 32 MiB of queued event text.
    this.maxClients = opts.maxClients ?? 32
    const hb = opts.heartbeatMs ?? 15_000
    this.heartbeat = hb > 0 ? setInterval(() => this.broadcast(': keep-alive\n\n', null), hb) : null
    this.heartbeat?.unref()
  }

  get size(): number {
    return this.clients.size
  }

  /** Takes over `res` as an event stream; false (and nothing written) when the hub is full. */
  attach(res: ServerResponse, node: string | null): boolean {
    if (this.clients.size >= this.maxClients) return false
    const client: Client = { res, node }
    this.clients.add(client)
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    })
    // retry: how long the browser waits before reconnecting after a drop.
    res.write('retry: 3000\n\n')
    const remove = (): void => {
      this.clients.delete(client)
    }
    res.on('close', remove)
    res.on('error', remove)
    return true
  }

  /** Sends one stored reading to every client that wants it. */
  publish(reading: ReadingRow): void {
    if (this.clients.size === 0) return
    // JSON.stringify escapes line breaks, so the data is one line: one `data:` field is enough.
    this.broadcast(`event: reading\ndata: ${JSON.stringify(reading)}\n\n`, reading.node)
  }

  private broadcast(text: string, node: string | null): void {
    const bytes = Buffer.byteLength(text)
    for (const c of this.clients) {
      if (node !== null && c.node !== null && c.node !== node) continue
      if (c.res.writableLength + bytes > this.maxBufferedBytes) {
        this.dropped++
        this.clients.delete(c)
        c.res.destroy()
        continue
      }
      c.res.write(text)
    }
  }

  /** Ends every stream and stops the heartbeat. */
  close(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat)
    for (const c of this.clients) c.res.end()
    this.clients.clear()
  }
}
