/** bench:gateway — `daneel gateway` stored readings/s (group commit) and receive→commit p50/p99, beside `daneel listen > /dev/null`. */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { GATEWAY, type GatewayLab, type GatewayProcess, startFleet, startGatewayLab, startGatewayProcess } from '../testkit/gateway-lab.js'
import { cliPath } from '../testkit/paths.js'

/*
 * One lab (Knot, 20 node identities), one Mosquitto, the real CLI processes. Two measurements:
 * - Throughput from a backlog: the gateway and `listen` each subscribe once (the broker then keeps a session for
 *   each), stop, the fleet publishes N readings (queued for both sessions), then each consumer starts alone and is
 *   timed from its subscription to the N-th reading stored (gateway: committed; listen: written to /dev/null).
 *   No sender competes for the CPU while a consumer is timed.
 * - Latency at a paced rate: the gateway running, the fleet at RATE readings/s for SECONDS; receive → commit
 *   from the gateway's own histogram (daneel_receive_to_commit_seconds: p50/p99 are bucket upper bounds).
 * Gateway RSS is its peak (VmHWM) over the run. Goals: >= 2,000 readings/s stored, p99 <= 50 ms at 500/s,
 * RSS <= 120 MB.
 */
const json = process.argv.includes('--json')
const N = Number(process.env.BENCH_N ?? 10_000)
const NODES = 20
const RATE = Number(process.env.BENCH_RATE ?? 500)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)

interface Row {
  impl: string
  readings: number
  seconds: number
  readings_per_s: number
  p50_ms: number | null
  p99_ms: number | null
  rss_mb: number | null
}

/** The node flags the shipped unit runs the gateway with (systemd/daneel-gateway.service): what users run is measured. */
const UNIT_FLAGS = (() => {
  const unit = readFileSync(new URL('../../systemd/daneel-gateway.service', import.meta.url), 'utf8')
  const line = /^ExecStart=\S*node((?:\s+--\S+)*)\s/m.exec(unit)
  return (line?.[1] ?? '')
    .trim()
    .split(/\s+/)
    .filter((f) => f !== '')
})()

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function peakRssMb(pid: number | undefined): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? null : Number(m[1]) / 1024
  } catch {
    return null
  }
}

async function metric(port: number, name: string): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n')
}

/** The gateway's stored counter; a failed scrape (a keep-alive connection reset under load) counts as 0 this time. */
async function stored(gw: GatewayProcess): Promise<number> {
  if (gw.proc.exitCode !== null || gw.proc.signalCode !== null) throw new Error(`the gateway exited: ${gw.stderr()}`)
  try {
    return Number(/ (\d+)$/.exec(await metric(gw.httpPort, 'daneel_readings_stored_total'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

/** Quantile q of a Prometheus histogram's text: the upper bound of the bucket that holds it, in ms. */
function quantileMs(text: string, q: number): number | null {
  const buckets = [...text.matchAll(/_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])] as [number, number])
  const total = buckets.at(-1)?.[1] ?? 0
  if (total === 0) return null
  // the +Inf bucket: beyond the largest bound (10 s)
  for (const [le, count] of buckets) if (count >= q * total) return Number.isNaN(le) ? Number.POSITIVE_INFINITY : le * 1000
  return null
}

function startListen(w: GatewayLab): { proc: ReturnType<typeof spawn>; err: () => string } {
  const proc = spawn(process.execPath, [cliPath, 'listen', '--client-id', 'bench-listen', '--count', String(N)], {
    env: { ...w.env, DANE_ID: GATEWAY, DANEEL_STATE: join(w.dir, 'listen-state'), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'], // stdout to /dev/null
  })
  w.children.push(proc)
  let err = ''
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  return { proc, err: () => err }
}

async function subscribed(err: () => string): Promise<void> {
  while (!err().includes('subscribed')) await sleep(5)
}

async function main(): Promise<void> {
  const w = await startGatewayLab('daneel-bench-gw-', NODES, { persistence: false })
  const rows: Row[] = []
  try {
    // sessions for both consumers, then the backlog
    let gw = await startGatewayProcess(w)
    await gw.ready()
    gw.proc.kill('SIGTERM')
    await gw.exited()
    const l0 = startListen(w)
    await subscribed(l0.err)
    l0.proc.kill('SIGTERM')
    await new Promise((r) => l0.proc.once('exit', r))
    const fleet = startFleet(w, N / NODES, 0)
    if ((await fleet.done) !== 0) throw new Error(`fleet failed: ${fleet.out()}`)

    gw = await startGatewayProcess(w, [], { nodeArgs: UNIT_FLAGS })
    await gw.ready()
    let t0 = performance.now()
    while ((await stored(gw)) < N) await sleep(5)
    let s = (performance.now() - t0) / 1000
    const backlogRss = peakRssMb(gw.proc.pid)
    rows.push({
      impl: 'daneel gateway (SQLite, group commit), backlog',
      readings: N,
      seconds: s,
      readings_per_s: N / s,
      p50_ms: null,
      p99_ms: null,
      rss_mb: backlogRss,
    })

    const l = startListen(w)
    await subscribed(l.err)
    t0 = performance.now()
    await new Promise((r) => l.proc.once('exit', r))
    s = (performance.now() - t0) / 1000
    const listenRss = /"rss":(\d+)/.exec(l.err())?.[1]
    rows.push({
      impl: 'daneel listen > /dev/null (peer), backlog',
      readings: N,
      seconds: s,
      readings_per_s: N / s,
      p50_ms: null,
      p99_ms: null,
      rss_mb: listenRss === undefined ? null : Number(listenRss) / 2 ** 20,
    })

    // paced: latency with the gateway keeping up (a fresh process, so its histogram holds only this phase)
    gw.proc.kill('SIGTERM')
    await gw.exited()
    gw = await startGatewayProcess(w, [], { nodeArgs: UNIT_FLAGS })
    await gw.ready()
    const tPaced = performance.now()
    const paced = startFleet(w, Math.round((RATE * SECONDS) / NODES), RATE / NODES, 0, N / NODES) // seqs after the backlog's
    if ((await paced.done) !== 0) throw new Error(`paced fleet failed: ${paced.out()}`)
    const want = Math.round((RATE * SECONDS) / NODES) * NODES
    while ((await stored(gw)) < want) await sleep(20)
    const hist = await metric(gw.httpPort, 'daneel_receive_to_commit_seconds')
    rows.push({
      impl: `daneel gateway, paced at ${RATE}/s`,
      readings: want,
      seconds: (performance.now() - tPaced) / 1000, // fleet start-up included: the offered rate is RATE
      readings_per_s: want / ((performance.now() - tPaced) / 1000),
      p50_ms: quantileMs(hist, 0.5),
      p99_ms: quantileMs(hist, 0.99),
      rss_mb: peakRssMb(gw.proc.pid),
    })
    gw.proc.kill('SIGTERM')
    await gw.exited()
  } finally {
    await w.stop()
  }

  const load = loadavg().map((x) => x.toFixed(1))
  if (json) {
    for (const r of rows)
      process.stdout.write(`${JSON.stringify({ bench: 'gateway', ...r, node_flags: UNIT_FLAGS.join(' '), load: loadavg()[0] })}\n`)
    return
  }
  const f = (v: number | null, d = 1): string => (v === null ? '-' : v === Number.POSITIVE_INFINITY ? '> 10000' : v.toFixed(d))
  process.stdout.write(
    `bench:gateway  ${NODES} nodes (Knot lab identities), Mosquitto on loopback, N=${N}, node ${process.version}, load average ${load.join(' ')}\n` +
      `gateway node flags (systemd/daneel-gateway.service): ${UNIT_FLAGS.join(' ') || '(none)'}\n`,
  )
  process.stdout.write('| consumer | readings | s | readings/s | p50 ms (≤) | p99 ms (≤) | peak RSS MB |\n|---|--:|--:|--:|--:|--:|--:|\n')
  for (const r of rows)
    process.stdout.write(
      `| ${r.impl} | ${r.readings} | ${f(r.seconds, 2)} | ${f(r.readings_per_s, 0)} | ${f(r.p50_ms, 0)} | ${f(r.p99_ms, 0)} | ${f(r.rss_mb)} |\n`,
    )
  process.stdout.write('goals: >= 2,000 readings/s stored; p99 <= 50 ms at 500/s; gateway RSS <= 120 MB\n')
}

await main()
