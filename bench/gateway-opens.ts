/** bench:gateway-opens — `daneel gateway` draining a pre-queued backlog with 0 (the peer: opens on the main thread), 1, 2 and 3 open workers. */
import { readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { type GatewayProcess, startFleet, startGatewayLab, startGatewayProcess } from '../testkit/gateway-lab.js'

/*
 * One lab (Knot, 20 node identities), one Mosquitto without persistence, the real CLI. For each worker count:
 * the fleet publishes N readings while the gateway is down (the broker queues them for its session), then the
 * gateway starts with `--open-workers K` and is timed from its subscription to the N-th reading committed.
 * Nothing else of ours runs meanwhile. CPU-ms per reading is the gateway process's user + system time over the
 * drain (all its threads, from /proc/PID/stat), so a worker's cost shows even where wall time does not improve.
 * The load average is printed per row: on a shared machine the rows are comparable only at similar load.
 */
const json = process.argv.includes('--json')
const N = Number(process.env.BENCH_N ?? 6000)
const NODES = 20
const WORKERS = (process.env.BENCH_WORKERS ?? '0,1,2,3').split(',').map(Number)

interface Row {
  workers: number
  readings: number
  seconds: number
  readings_per_s: number
  cpu_ms_per_reading: number | null
  load: number
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const TICK_MS = 10 // USER_HZ = 100 on Linux

/** User + system CPU of a process, all threads, in ms (null off Linux). */
function cpuMs(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) * TICK_MS
  } catch {
    return null
  }
}

async function stored(gw: GatewayProcess): Promise<number> {
  if (gw.proc.exitCode !== null || gw.proc.signalCode !== null) throw new Error(`the gateway exited: ${gw.stderr()}`)
  try {
    const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text()
    return Number(/^daneel_readings_stored_total (\d+)$/m.exec(text)?.[1] ?? 0)
  } catch {
    return 0
  }
}

async function main(): Promise<void> {
  const w = await startGatewayLab('daneel-bench-opens-', NODES, { persistence: false })
  const rows: Row[] = []
  try {
    // the session, so that the broker queues while the gateway is down
    let gw = await startGatewayProcess(w, ['--open-workers', '0'])
    await gw.ready()
    gw.proc.kill('SIGTERM')
    await gw.exited()
    for (const [round, workers] of WORKERS.entries()) {
      const fleet = startFleet(w, N / NODES, 0, 0, (round * N) / NODES) // fresh sequence numbers each round
      if ((await fleet.done) !== 0) throw new Error(`fleet failed: ${fleet.out()}`)
      gw = await startGatewayProcess(w, ['--open-workers', String(workers)], { httpPort: gw.httpPort })
      await gw.ready()
      const c0 = cpuMs(gw.proc.pid)
      const t0 = performance.now()
      while ((await stored(gw)) < N) await sleep(5)
      const s = (performance.now() - t0) / 1000
      const c1 = cpuMs(gw.proc.pid)
      rows.push({
        workers,
        readings: N,
        seconds: s,
        readings_per_s: N / s,
        cpu_ms_per_reading: c0 === null || c1 === null ? null : (c1 - c0) / N,
        load: loadavg()[0] as number,
      })
      gw.proc.kill('SIGTERM')
      await gw.exited()
    }
  } finally {
    await w.stop()
  }

  if (json) {
    for (const r of rows) process.stdout.write(`${JSON.stringify({ bench: 'gateway-opens', ...r })}\n`)
    return
  }
  const peer = rows.find((r) => r.workers === 0)
  process.stdout.write(
    `bench:gateway-opens  ${NODES} nodes, N=${N} pre-queued readings, Mosquitto on loopback (no persistence), SQLite, ${availableParallelism()} cores, node ${process.version}, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}\n`,
  )
  process.stdout.write(
    '| open workers | readings | s | readings/s | vs main thread | CPU-ms per reading | load (1 min) |\n|--:|--:|--:|--:|--:|--:|--:|\n',
  )
  for (const r of rows)
    process.stdout.write(
      `| ${r.workers === 0 ? '0 (main thread, peer)' : r.workers} | ${r.readings} | ${r.seconds.toFixed(2)} | ${r.readings_per_s.toFixed(0)} | ${peer === undefined ? '-' : `${(r.readings_per_s / peer.readings_per_s).toFixed(2)}x`} | ${r.cpu_ms_per_reading === null ? '-' : r.cpu_ms_per_reading.toFixed(2)} | ${r.load.toFixed(1)} |\n`,
    )
}

await main()
