/** The sd_notify watchdog through the real `systemd-notify`, received on a Unix datagram socket (python3 binds it). */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startWatchdog } from '../../device/watchdog.js'
import { silentLogger } from '../../src/log.js'
import { makeTempDir } from '../../testkit/paths.js'

const tmp = makeTempDir('daneel-watchdog-')
const children: ChildProcess[] = []
after(() => {
  for (const c of children) c.kill('SIGKILL')
  tmp.cleanup()
})

/** A stand-in for PID 1's notify socket: prints every datagram on a line of its own. */
async function notifySocket(): Promise<{ path: string; messages: string[] }> {
  const path = join(tmp.dir, `notify-${children.length}.sock`)
  const py = spawn('python3', [
    '-u',
    '-c',
    `import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nwhile True:\n  print(s.recv(4096).decode(), flush=True)`,
    path,
  ])
  children.push(py)
  const messages: string[] = []
  py.stdout.setEncoding('utf8').on('data', (d: string) => messages.push(...d.split('\n').filter((l) => l !== '')))
  for (let i = 0; i < 100 && !existsSync(path); i++) await sleep(20)
  assert.ok(existsSync(path), 'python3 did not bind the socket')
  return { path, messages }
}

describe('startWatchdog', () => {
  it('is a no-op outside systemd (no NOTIFY_SOCKET)', () => {
    let spawned = 0
    const w = startWatchdog({
      env: {},
      log: silentLogger,
      spawn: () => {
        spawned++
        return { on: () => ({}) as never }
      },
    })
    w.ready()
    w.stopping()
    assert.equal(spawned, 0)
  })

  it('sends READY=1, WATCHDOG=1 every WATCHDOG_USEC/2 while healthy, then STOPPING=1 and no more', async () => {
    const sock = await notifySocket()
    let healthy = true
    const w = startWatchdog({ env: { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '200000' }, log: silentLogger, healthy: () => healthy })
    w.ready()
    await sleep(700)
    const pings = sock.messages.filter((m) => m === 'WATCHDOG=1').length
    assert.ok(sock.messages.includes('READY=1'), sock.messages.join(','))
    assert.ok(pings >= 3, `pings ${pings}`)
    healthy = false
    await sleep(150)
    const before = w.pings
    await sleep(400)
    assert.equal(w.pings, before, 'no ping while unhealthy')
    w.stopping()
    for (let i = 0; i < 50 && !sock.messages.includes('STOPPING=1'); i++) await sleep(20)
    assert.ok(sock.messages.includes('STOPPING=1'))
  })

  it('skips the ping when the event loop stalled (so systemd restarts a hung runtime)', async () => {
    let t = 0
    let spawned = 0
    const w = startWatchdog({
      env: { NOTIFY_SOCKET: '/nonexistent', WATCHDOG_USEC: '100000' },
      log: silentLogger,
      now: () => t,
      spawn: () => {
        spawned++
        return { on: () => ({}) as never }
      },
    })
    t = 50 // on time
    await sleep(80)
    assert.equal(w.pings, 1)
    t += 500 // the clock jumped past half the interval between timer callbacks: a stall
    await sleep(60)
    assert.equal(w.pings, 1)
    w.stopping()
    assert.ok(spawned >= 2)
  })

  it('ignores a watchdog meant for another PID (WATCHDOG_PID)', async () => {
    let spawned = 0
    const w = startWatchdog({
      env: { NOTIFY_SOCKET: '/nonexistent', WATCHDOG_USEC: '20000', WATCHDOG_PID: String(process.pid + 1) },
      log: silentLogger,
      spawn: () => {
        spawned++
        return { on: () => ({}) as never }
      },
    })
    await sleep(60)
    assert.equal(w.pings, 0)
    assert.equal(spawned, 0)
  })
})
