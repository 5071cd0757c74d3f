/** The gateway HTTP surface over an in-memory store: routes, parameter errors, CSV, methods, token, static allow-list, SSE. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { type IncomingMessage as ClientResponse, request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { HOUR_MS, nodeAqi } from '../../gateway/aqi/node-aqi.js'
import { createGatewayHttp, type GatewayHttp } from '../../gateway/http/server.js'
import type { ReadingRow } from '../../gateway/store/types.js'
import { repoPath as rootPath } from '../../testkit/paths.js'
import { fillNode } from './fill.js'
import { MemoryStore } from './memory-store.js'

interface Res {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A raw request: the path goes out byte for byte (no client-side normalisation), so traversal attempts are real. */
function get(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    req.end()
  })
}

const NOW = Date.UTC(2026, 5, 1, 10, 20)
const store = new MemoryStore()
let healthy = true
let http: GatewayHttp
let port = 0

before(async () => {
  await fillNode(store, {
    node: 'air1._device.example.org',
    endMs: NOW - 60_000,
    spanMs: 24 * HOUR_MS,
    everyMs: 10 * 60_000,
    status: { uptimeS: 100, readings: 5, sensors: [{ sensor: 'pms0', model: 'pms5003', health: 'degraded' }] },
  })
  await fillNode(store, {
    node: 'old1._device.legacy.example',
    bound: false,
    endMs: NOW - 60_000,
    spanMs: 3 * HOUR_MS,
    everyMs: 30 * 60_000,
  })
  http = createGatewayHttp({
    store,
    health: () => ({ ok: healthy, store: 'open' }),
    metrics: () => 'daneel_stored_total 42\n',
    now: () => NOW,
  })
  port = (await http.listen('127.0.0.1', 0)).port
})
after(() => http.close())

describe('gateway http: routes', () => {
  it('/healthz: 200 when healthy, 503 otherwise, with the health object', async () => {
    let r = await get(port, '/healthz')
    assert.equal(r.status, 200)
    assert.deepEqual(JSON.parse(r.body), { ok: true, store: 'open' })
    healthy = false
    r = await get(port, '/healthz')
    healthy = true
    assert.equal(r.status, 503)
  })

  it('/api/nodes: trust badge, health status, and the AQI computed from the stored readings', async () => {
    const r = await get(port, '/api/nodes')
    assert.equal(r.status, 200)
    const nodes = JSON.parse(r.body) as { node: string; trust: string; status: unknown; aqi: { value: number; scheme: string } | null }[]
    assert.deepEqual(
      nodes.map((n) => [n.node, n.trust]),
      [
        ['air1._device.example.org', 'dnssec'],
        ['old1._device.legacy.example', 'legacy'],
      ],
    )
    const rows = await store.readings({ node: 'air1._device.example.org' })
    const want = nodeAqi(rows, NOW, { scheme: 'us-epa', correction: 'none' })
    assert.ok(want)
    assert.deepEqual(nodes[0]?.aqi, want)
    assert.equal((nodes[0]?.status as { sensors: unknown[] } | undefined)?.sensors.length, 1)
    const caqi = JSON.parse((await get(port, '/api/nodes?index=caqi&correction=epa-2021')).body) as typeof nodes
    assert.equal(caqi[0]?.aqi?.scheme, 'caqi')
    assert.equal((await get(port, '/api/nodes?index=who')).status, 400)
  })

  it('/api/readings: exactly the API fields, filtered by node and range, limited, ascending in a range', async () => {
    const from = new Date(NOW - 2 * HOUR_MS).toISOString()
    const to = new Date(NOW - HOUR_MS).toISOString()
    const r = await get(port, `/api/readings?node=air1._device.example.org&from=${from}&to=${to}&limit=500`)
    assert.equal(r.status, 200)
    const rows = JSON.parse(r.body) as ReadingRow[]
    assert.equal(rows.length, 18) // 6 instants x 3 sensors
    for (const row of rows) {
      assert.deepEqual(Object.keys(row), ['node', 'seq', 'time', 'receivedAt', 'auth', 'bound', 'sensor', 'model', 'values'])
      assert.ok(row.time >= from && row.time < to)
    }
    const times = rows.map((x) => x.time)
    assert.deepEqual(times, [...times].sort())
    const limited = JSON.parse((await get(port, '/api/readings?limit=4')).body) as ReadingRow[]
    assert.equal(limited.length, 4)
  })

  it('/api/readings&step: averages per step', async () => {
    const from = new Date(NOW - 3 * HOUR_MS).toISOString()
    const to = new Date(NOW).toISOString()
    const rows = JSON.parse(
      (await get(port, `/api/readings?node=air1._device.example.org&from=${from}&to=${to}&step=3600`)).body,
    ) as ReadingRow[]
    const pms = rows.filter((x) => x.sensor === 'pms0')
    assert.equal(pms.length, 4) // hours 07, 08, 09, 10 (partial) UTC
    const raw = await store.readings({ node: 'air1._device.example.org', from: Date.UTC(2026, 5, 1, 8), to: Date.UTC(2026, 5, 1, 9) })
    const pm25 = raw.filter((x) => x.sensor === 'pms0').map((x) => x.values.pm25 as number)
    const mean = pm25.reduce((a, b) => a + b, 0) / pm25.length
    assert.equal(pms.find((x) => x.time === '2026-06-01T08:00:00.000Z')?.values.pm25, mean)
  })

  it('bad parameters: 400 and a one-line JSON error', async () => {
    for (const q of [
      'from=yesterday',
      'from=2026-01-01',
      'to=2026-13-45T99:00:00Z',
      'from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z',
      'limit=0',
      'limit=10001',
      'limit=-5',
      'limit=1e3',
      'step=abc',
      'step=0',
      'node=../../etc',
      'node=a%20b',
      'nodes=x',
      'limit=1&limit=2',
    ]) {
      for (const path of ['/api/readings', '/api/readings.csv']) {
        const r = await get(port, `${path}?${q}`)
        assert.equal(r.status, 400, `${path}?${q}`)
        assert.equal(r.headers['content-type'], 'application/json')
        assert.ok(!r.body.includes('\n'))
        assert.equal(typeof (JSON.parse(r.body) as { error: string }).error, 'string')
      }
    }
  })

  it('/api/readings.csv: header, one line per row, value columns', async () => {
    const r = await get(port, '/api/readings.csv?node=old1._device.legacy.example')
    assert.equal(r.status, 200)
    assert.match(String(r.headers['content-type']), /^text\/csv/)
    const lines = r.body.trimEnd().split('\r\n')
    assert.equal(lines[0], 'node,seq,time,receivedAt,auth,bound,sensor,model,co2,humidity,pm1,pm10,pm25,pm25Cf1,temperature')
    assert.equal(lines.length, 1 + 7 * 3)
    assert.match(lines[1] ?? '', /^old1\._device\.legacy\.example,,2026-06-01T10:19:00\.000Z,.*,dnssec,false,/)
  })

  it('/metrics: the callback text as Prometheus exposition', async () => {
    const r = await get(port, '/metrics')
    assert.equal(r.status, 200)
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
    assert.equal(r.body, 'daneel_stored_total 42\n')
  })

  it('read-only: every method but GET and HEAD is 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      for (const path of ['/api/readings', '/', '/healthz']) {
        const r = await get(port, path, { method })
        assert.equal(r.status, 405, `${method} ${path}`)
        assert.equal(r.headers.allow, 'GET, HEAD')
      }
    }
    const head = await get(port, '/', { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.body, '')
  })

  it('a store failure answers 500 and the server keeps serving', async () => {
    store.failWith = new Error('disk I/O error')
    const r = await get(port, '/api/readings')
    store.failWith = null
    assert.equal(r.status, 500)
    assert.deepEqual(JSON.parse(r.body), { error: 'internal error' })
    assert.equal((await get(port, '/api/readings?limit=1')).status, 200)
  })
})

describe('gateway http: static files', () => {
  it('serves the dashboard and uPlot from the package', async () => {
    const uplot = readFileSync(rootPath('node_modules/uplot/dist/uPlot.iife.min.js'), 'utf8')
    const cases: [string, RegExp, string | null][] = [
      ['/', /^text\/html/, readFileSync(rootPath('gateway/dashboard/index.html'), 'utf8')],
      ['/app.js', /^text\/javascript/, null],
      ['/style.css', /^text\/css/, null],
      ['/vendor/uPlot.iife.min.js', /^text\/javascript/, uplot],
      ['/vendor/uPlot.min.css', /^text\/css/, null],
    ]
    for (const [path, type, body] of cases) {
      const r = await get(port, path)
      assert.equal(r.status, 200, path)
      assert.match(String(r.headers['content-type']), type)
      assert.equal(r.headers['x-content-type-options'], 'nosniff')
      assert.match(String(r.headers['content-security-policy']), /default-src 'none'/)
      if (body !== null) assert.equal(r.body, body)
    }
  })

  it('nothing outside the allow-list: traversal, encoded dots, other package files, key-like paths', async () => {
    const pkg = readFileSync(rootPath('package.json'), 'utf8')
    for (const path of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/%2E%2E/%2E%2E/package.json',
      '/vendor/../../package.json',
      '/vendor/%2e%2e/%2e%2e/package.json',
      '/..%2fpackage.json',
      '/%2f..%2f..%2fetc/passwd',
      '/vendor/uPlot.cjs.js',
      '/vendor/../../node_modules/uplot/package.json',
      '/app.js/',
      '/app.js%00.html',
      '/index.html',
      '/dashboard/app.js',
      '/identity/key.pem',
      '/.env',
      '//etc/passwd',
      '/\\..\\package.json',
    ]) {
      const r = await get(port, path)
      assert.notEqual(r.status, 200, path)
      assert.ok(!r.body.includes('"name": "daneel"') && !r.body.includes('root:x:0'), path)
      assert.notEqual(r.body, pkg)
    }
  })
})

describe('gateway http: bearer token and binding', () => {
  const token = 'k7Q2-just-for-this-test-0123456789'
  let tokened: GatewayHttp
  let tport = 0
  before(async () => {
    tokened = createGatewayHttp({ store, health: () => ({ ok: true }), token })
    tport = (await tokened.listen('127.0.0.1', 0)).port
  })
  after(() => tokened.close())

  it('every route but /healthz needs the bearer token', async () => {
    assert.equal((await get(tport, '/healthz')).status, 200)
    for (const path of ['/', '/app.js', '/api/nodes', '/api/readings', '/api/readings.csv', '/metrics', '/events', '/nope']) {
      const none = await get(tport, path)
      assert.equal(none.status, 401, path)
      assert.equal(none.headers['www-authenticate'], 'Bearer realm="daneel"')
      assert.equal((await get(tport, path, { headers: { authorization: `Bearer ${token}x` } })).status, 401)
      assert.equal((await get(tport, path, { headers: { authorization: `Basic ${token}` } })).status, 401)
      assert.equal((await get(tport, path, { headers: { authorization: token } })).status, 401)
    }
    assert.equal((await get(tport, '/api/nodes', { headers: { authorization: `Bearer ${token}` } })).status, 200)
    assert.equal((await get(tport, '/api/nodes', { headers: { authorization: `bearer ${token}` } })).status, 200)
  })

  it('binds beyond loopback only with a token', async () => {
    const open = createGatewayHttp({ store, health: () => ({ ok: true }) })
    await assert.rejects(open.listen('0.0.0.0', 0), { code: 'ERR_CONFIG_INVALID' })
    await assert.rejects(open.listen('::', 0), { code: 'ERR_CONFIG_INVALID' })
    const a = await open.listen('::1', 0).catch(() => open.listen('127.0.0.1', 0))
    assert.ok(a.port > 0)
    await open.close()
    const wide = createGatewayHttp({ store, health: () => ({ ok: true }), token })
    const w = await wide.listen('0.0.0.0', 0)
    assert.equal(w.host, '0.0.0.0')
    await wide.close()
  })

  it('refuses a short token, or one a Bearer header cannot carry', () => {
    assert.throws(() => createGatewayHttp({ store, health: () => ({ ok: true }), token: 'short' }), { code: 'ERR_CONFIG_INVALID' })
    assert.throws(() => createGatewayHttp({ store, health: () => ({ ok: true }), token: 'has a space in it 0123' }), {
      code: 'ERR_CONFIG_INVALID',
    })
  })
})

describe('gateway http: server-sent events', () => {
  function reading(node: string, i: number, pad = ''): ReadingRow {
    const t = new Date(NOW + i * 1000).toISOString()
    return {
      node,
      seq: i,
      time: t,
      receivedAt: t,
      auth: 'dnssec',
      bound: true,
      sensor: 'pms0',
      model: pad || 'pms5003',
      values: { pm25: i },
    }
  }

  it('publish() reaches subscribed clients as `event: reading`, filtered by node', async () => {
    const got: string[] = []
    const all = await openStream(port, '/events', got)
    const one: string[] = []
    const filtered = await openStream(port, '/events?node=b.example', one)
    http.publish(reading('a.example', 1))
    http.publish(reading('b.example', 2))
    await waitFor(() => got.join('').split('event: reading').length === 3 && one.join('').includes('event: reading'))
    assert.match(got.join(''), /^retry: 3000\n\nevent: reading\ndata: \{"node":"a\.example"/)
    assert.equal(one.join('').split('event: reading').length, 2)
    assert.ok(one.join('').includes('"node":"b.example"'))
    all.destroy()
    filtered.destroy()
  })

  it('a client that stops reading is dropped once its buffer passes the bound; others keep receiving', async () => {
    const small = createGatewayHttp({ store, health: () => ({ ok: true }), events: { maxBufferedBytes: 64 * 1024, heartbeatMs: 0 } })
    const sport = (await small.listen('127.0.0.1', 0)).port
    const fastGot: string[] = []
    const fast = await openStream(sport, '/events', fastGot)
    const slow = await openStream(sport, '/events', [])
    slow.pause()
    // ~4 KiB per event; the slow socket's kernel buffers fill first, then Node's writable buffer passes 64 KiB.
    // ~4 KiB per event, 5 events per 10 ms: a burst well under the bound, so a reading client never trips it;
    // the paused socket's kernel buffers fill first, then Node's writable buffer passes 64 KiB.
    const pad = 'x'.repeat(4096)
    let i = 0
    try {
      await waitFor(() => {
        for (let k = 0; k < 5; k++) small.publish(reading('a.example', i++, pad))
        return small.events.dropped > 0
      }, 20_000)
      assert.equal(small.events.dropped, 1)
      assert.equal(small.events.size, 1)
      const before = i
      for (let k = 0; k < 5; k++) small.publish(reading('a.example', i++, pad))
      await waitFor(() => fastGot.join('').split('event: reading').length - 1 === i)
      assert.ok(i > before)
    } finally {
      fast.destroy()
      slow.destroy()
      await small.close()
    }
  })
})

function openStream(p: number, path: string, sink: string[]): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: p, path }, (res) => {
      assert.equal(res.statusCode, 200)
      assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8')
      res.setEncoding('utf8')
      res.on('data', (c: string) => sink.push(c))
      res.on('error', () => {})
      resolve(res)
    })
    req.on('error', reject)
    req.end()
  })
}

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
