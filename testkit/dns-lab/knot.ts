/** One knotd per lab, on 127.0.0.1 (and ::1) at a free port; started, reloaded and stopped by PID only. */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '../ports.js'
import { run, sleep, soaSerial } from './tools.js'
import { LAB_ZONES, stem } from './zones.js'

export interface KnotHandle {
  port: number
  proc: ChildProcess
  conf: string
  log: string
}

/** The policy, template and zone sections (shared by knotd's config and the keymgr run before it starts). */
function zoneSections(zonesDir: string): string[] {
  return [
    'policy:',
    '  - id: optout',
    '    algorithm: ecdsap256sha256',
    '    nsec3: on',
    '    nsec3-opt-out: on',
    '    nsec3-iterations: 0',
    '    nsec3-salt-length: 0',
    '    manual: on',
    'template:',
    '  - id: default',
    `    storage: "${zonesDir}"`,
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    '    journal-content: none',
    '    semantic-checks: off',
    'zone:',
    ...LAB_ZONES.flatMap(([z, k]) => [
      `  - domain: "${z}"`,
      `    file: "${stem(z)}.signed"`,
      ...(k !== 'unsigned' && k.knot === true ? ['    dnssec-signing: on', '    dnssec-policy: optout'] : []),
    ]),
  ]
}

/** A config for keymgr (same KASP database as knotd will use), written before knotd's own. */
export function writeKeymgrConf(dir: string, zonesDir: string): string {
  mkdirSync(join(dir, 'knot', 'db'), { recursive: true })
  const conf = join(dir, 'knot', 'keymgr.conf')
  writeFileSync(conf, `${['database:', `    storage: "${join(dir, 'knot', 'db')}"`, ...zoneSections(zonesDir)].join('\n')}\n`)
  return conf
}

function writeConf(dir: string, zonesDir: string, port: number, ipv6: boolean): string {
  const run = join(dir, 'knot')
  mkdirSync(join(run, 'db'), { recursive: true })
  const listen = ipv6 ? `[ 127.0.0.1@${port}, ::1@${port} ]` : `127.0.0.1@${port}`
  const lines = [
    'server:',
    `    listen: ${listen}`,
    `    rundir: "${run}"`,
    `    pidfile: "${run}/knot.pid"`,
    // 1232 (DNS Flag Day 2020) also caps what knotd sends, so big RRsets really truncate over UDP.
    '    udp-max-payload: 1232',
    '    udp-workers: 1',
    '    tcp-workers: 1',
    '    background-workers: 1',
    'log:',
    '  - target: stderr',
    '    any: info',
    'database:',
    `    storage: "${run}/db"`,
    'control:',
    `    listen: "${run}/knot.sock"`,
    ...zoneSections(zonesDir),
  ]
  const conf = join(run, 'knot.conf')
  writeFileSync(conf, `${lines.join('\n')}\n`)
  return conf
}

/** Waits until 127.0.0.1:port serves `zone` with `serial` (our own server, not someone else's on a reused port). */
export async function waitServed(port: number, zone: string, serial: number, proc: ChildProcess, timeoutMs = 20_000): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (proc.exitCode !== null || proc.signalCode !== null) return false
    if ((await soaSerial(port, zone)) === serial) return true
    await sleep(25)
  }
  return false
}

const live = new Set<ChildProcess>()
const dirs = new Set<string>()
/** Removes `dir` too if the process dies before the lab's stop() (stop() removes it itself). */
export function removeOnExit(dir: string, remove: boolean): void {
  if (remove) dirs.add(dir)
  else dirs.delete(dir)
}
let exitHookInstalled = false
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // A crashed test file must not leave its knotd behind: kill only the PIDs this process started.
  const killAll = (): void => {
    for (const p of live) if (p.exitCode === null) p.kill('SIGKILL')
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
  process.once('exit', killAll)
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    // Kill our knotds, then die of the same signal as we would have without this handler.
    process.once(sig, () => {
      killAll()
      process.kill(process.pid, sig)
    })
  }
}

/**
 * Starts knotd; picks another port when the chosen one turns out to be taken. With `port` (a lab brought back up
 * where its clients expect it) only that port is tried.
 */
export async function startKnot(dir: string, zonesDir: string, rootSerial: number, fixedPort?: number): Promise<KnotHandle> {
  installExitHook()
  let lastLog = ''
  for (let attempt = 0; attempt < (fixedPort === undefined ? 5 : 1); attempt++) {
    const port = fixedPort ?? (await freePort())
    const conf = writeConf(dir, zonesDir, port, true)
    const log = join(dir, 'knot', `knotd.${attempt}.log`)
    const fd = openSync(log, 'w')
    const proc = spawn('knotd', ['-c', conf], { stdio: ['ignore', fd, fd] })
    closeSync(fd)
    live.add(proc)
    proc.once('exit', () => live.delete(proc))
    if (await waitServed(port, '.', rootSerial, proc)) {
      if (/cannot bind|failed to bind/i.test(readFileSync(log, 'utf8'))) {
        await stopKnot({ port, proc, conf, log })
        continue
      }
      return { port, proc, conf, log }
    }
    lastLog = readFileSync(log, 'utf8')
    await stopKnot({ port, proc, conf, log })
  }
  throw new Error(`dns-lab: knotd did not come up:\n${lastLog.slice(-2000)}`)
}

/** Tells knotd to re-read one zone's file, then waits until the new serial is served. */
export async function reloadZone(k: KnotHandle, zone: string, serial: number): Promise<void> {
  await run('knotc', ['-c', k.conf, 'zone-reload', zone])
  if (!(await waitServed(k.port, zone, serial, k.proc))) {
    throw new Error(`dns-lab: ${zone} serial ${serial} not served after reload:\n${readFileSync(k.log, 'utf8').slice(-2000)}`)
  }
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the process is gone. */
export async function stopKnot(k: KnotHandle): Promise<void> {
  const p = k.proc
  if (p.exitCode !== null || p.signalCode !== null) return
  const gone = new Promise<void>((r) => p.once('exit', () => r()))
  p.kill('SIGTERM')
  const t = setTimeout(() => p.kill('SIGKILL'), 3000)
  await gone
  clearTimeout(t)
}
