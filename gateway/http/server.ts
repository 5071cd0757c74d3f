/** The gateway's read-only HTTP surface (node:http): health, JSON/CSV API, Prometheus metrics, live events, dashboard. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DaneelError } from '../../src/errors.js'
import { type Logger, silentLogger } from '../../src/log.js'
import type { AqiScheme, PmCorrection } from '../aqi/node-aqi.js'
import type { ReadingRow, ReadingStore } from '../store/types.js'
import { bearerChecker, isLoopbackHost } from './auth.js'
import { readingsCsv } from './csv.js'
import { EventHub, type EventHubOptions } from './events.js'
import { nodeViews } from './nodes.js'
import { parseReadingsQuery } from './query.js'
import { loadStaticFiles } from './static.js'

export interface GatewayHttpOptions {
  store: ReadingStore
  /** `ok` false answers /healthz with 503; the whole object is the body. */
  health: () => { ok: boolean; [k: string]: unknown }
  /** Prometheus text exposition; /metrics is 404 without it. */
  metrics?: () => string
  /** With a token the server may bind beyond loopback, and every route but /healthz requires `Bearer <token>`. */
  token?: string
  now?: () => number
  log?: Logger
  events?: EventHubOptions
}

export interface GatewayHttp {
  readonly server: Server
  readonly events: EventHub
  /** Binds; refuses a non-loopback host unless a token is configured. Resolves with the bound address. */
  listen(host: string, port: number): Promise<{ host: string; port: number }>
  /** Sends a newly stored reading to the live clients. */
  publish(reading: ReadingRow): void
  close(): Promise<void>
}

const SCHEMES = new Set<AqiScheme>(['us-epa', 'caqi', 'eaqi'])
const CORRECTIONS = new Set<PmCorrection>(['none', 'epa-2021'])

// Set on every response. The dashboard loads only its own files; uPlot sets element styles from script, which
// CSP counts as inline style, hence 'unsafe-inline' for styles only.
const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}

export function createGatewayHttp(opts: GatewayHttpOptions): GatewayHttp {
  const log = opts.log ?? silentLogger
  const now = opts.now ?? Date.now
  const files = loadStaticFiles()
  const events = new EventHub(opts.events)
  const authorized = opts.token === undefined ? null : bearerChecker(opts.token)
  // RFC 6750 b64token syntax, or no client could ever send it in a Bearer header.
  if (opts.token !== undefined && !(opts.token.length >= 16 && /^[A-Za-z0-9\-._~+/]+=*$/.test(opts.token))) {
    throw new DaneelError('ERR_CONFIG_INVALID', '--http-token: at least 16 characters of A-Z a-z 0-9 - . _ ~ + /')
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, json({ error: 'read-only: GET and HEAD only' }), 'application/json', { allow: 'GET, HEAD' })
    }
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://gateway.invalid')
    } catch {
      return send(res, 400, json({ error: 'bad request target' }), 'application/json')
    }
    const path = url.pathname
    if (path === '/healthz') {
      const h = opts.health()
      return send(res, h.ok ? 200 : 503, json(h), 'application/json')
    }
    if (authorized !== null && !authorized(req.headers.authorization)) {
      return send(res, 401, json({ error: 'bearer token required' }), 'application/json', {
        'www-authenticate': 'Bearer realm="daneel"',
      })
    }
    switch (path) {
      case '/api/nodes': {
        const scheme = (url.searchParams.get('index') ?? 'us-epa') as AqiScheme
        const correction = (url.searchParams.get('correction') ?? 'none') as PmCorrection
        if (!SCHEMES.has(scheme)) return send(res, 400, json({ error: 'index: us-epa, caqi or eaqi' }), 'application/json')
        if (!CORRECTIONS.has(correction)) return send(res, 400, json({ error: 'correction: none or epa-2021' }), 'application/json')
        return send(res, 200, json(await nodeViews(opts.store, now(), { scheme, correction })), 'application/json')
      }
      case '/api/readings':
      case '/api/readings.csv': {
        const p = parseReadingsQuery(url.searchParams)
        if (!p.ok) return send(res, 400, json({ error: p.error }), 'application/json')
        const rows = (await opts.store.readings(p.query)).map(apiRow)
        if (path === '/api/readings') return send(res, 200, json(rows), 'application/json')
        return send(res, 200, readingsCsv(rows), 'text/csv; charset=utf-8; header=present', {
          'content-disposition': 'attachment; filename="readings.csv"',
        })
      }
      case '/metrics':
        if (opts.metrics === undefined) return send(res, 404, json({ error: 'no metrics' }), 'application/json')
        return send(res, 200, opts.metrics(), 'text/plain; version=0.0.4; charset=utf-8')
      case '/events': {
        const node = url.searchParams.get('node')
        if (req.method === 'HEAD') return send(res, 200, '', 'text/event-stream; charset=utf-8')
        for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v)
        if (!events.attach(res, node)) return send(res, 503, json({ error: 'too many event clients' }), 'application/json')
        return
      }
      default: {
        const f = files.get(path)
        if (f === undefined) return send(res, 404, json({ error: 'not found' }), 'application/json')
        return send(res, 200, f.body, f.type, { 'cache-control': 'no-cache' })
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.warn('http request failed', { path: req.url?.slice(0, 200), error: err instanceof Error ? err.message : String(err) })
      if (!res.headersSent) send(res, 500, json({ error: 'internal error' }), 'application/json')
      else res.destroy()
    })
  })

  return {
    server,
    events,
    listen(host, port) {
      if (authorized === null && !isLoopbackHost(host)) {
        return Promise.reject(
          new DaneelError('ERR_CONFIG_INVALID', `--http ${host}: binding beyond loopback requires --http-token (the API would be open)`),
        )
      }
      return new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          const a = server.address() as AddressInfo
          resolve({ host: a.address, port: a.port })
        })
      })
    },
    publish: (r) => events.publish(apiRow(r)),
    close() {
      events.close()
      return new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

/** Exactly the API's fields, whatever else a store row carries. */
function apiRow(r: ReadingRow): ReadingRow {
  return {
    node: r.node,
    seq: r.seq,
    time: r.time,
    receivedAt: r.receivedAt,
    auth: r.auth,
    bound: r.bound,
    sensor: r.sensor,
    model: r.model,
    values: r.values,
  }
}

function json(v: unknown): string {
  return JSON.stringify(v)
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'cache-control': 'no-store',
    ...extra,
    'content-type': type,
    'content-length': String(buf.length),
  })
  res.end(buf)
}
