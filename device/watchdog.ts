/** systemd readiness and watchdog (sd_notify) for the runtime: Node cannot send Unix datagrams, so `systemd-notify` does. */
import { type ChildProcess, spawn as nodeSpawn } from 'node:child_process'
import type { Logger } from '../src/log.js'

/*
 * Why a child process: sd_notify is a datagram on the AF_UNIX socket in $NOTIFY_SOCKET, and Node has no Unix
 * datagram sockets (a native addon would need a compiler on the Pi). `systemd-notify` is in every systemd install;
 * the unit needs NotifyAccess=all because the sender is our child, not the main PID. systemd 252 (bookworm)'s
 * systemd-notify waits until PID 1 has taken the message, which closes the race the man page warns about.
 * Cost: one short-lived process per ping, every WatchdogSec/2 (30 s with WatchdogSec=60): negligible.
 */

export interface WatchdogOptions {
  env: NodeJS.ProcessEnv
  log: Logger
  /** Extra health check besides a responsive event loop (e.g. the sampling loop still running). */
  healthy?: () => boolean
  spawn?: (cmd: string, args: string[]) => Pick<ChildProcess, 'on'>
  now?: () => number
}

export interface Watchdog {
  /** READY=1 (Type=notify): the runtime is up. */
  ready(): void
  /** STOPPING=1, then no more pings. */
  stopping(): void
  /** Pings sent so far (tests and stats). */
  readonly pings: number
}

const noop: Watchdog = { ready() {}, stopping() {}, pings: 0 }

/**
 * Starts pinging WATCHDOG=1 every WATCHDOG_USEC/2 while healthy: the event loop answered the timer within half
 * the interval (a stalled loop must not be kept alive) and `healthy()` says yes. A no-op outside systemd.
 */
export function startWatchdog(opts: WatchdogOptions): Watchdog {
  const socket = opts.env.NOTIFY_SOCKET
  if (socket === undefined || socket === '') return noop
  // The child needs NOTIFY_SOCKET in its own environment (opts.env may not be process.env).
  const childEnv = { ...process.env, NOTIFY_SOCKET: socket }
  const spawn = opts.spawn ?? ((cmd: string, args: string[]) => nodeSpawn(cmd, args, { stdio: 'ignore', env: childEnv }))
  const now = opts.now ?? Date.now
  let failedLogged = false
  const notify = (state: string): void => {
    const child = spawn('systemd-notify', [state])
    child.on('error', (err: Error) => {
      if (!failedLogged) opts.log.warn('cannot run systemd-notify; readiness and watchdog pings are not sent', { error: err.message })
      failedLogged = true
    })
  }
  const usec = Number(opts.env.WATCHDOG_USEC ?? '')
  const pid = opts.env.WATCHDOG_PID
  const forUs = pid === undefined || pid === '' || Number(pid) === process.pid
  let timer: NodeJS.Timeout | undefined
  const state = { pings: 0, stopped: false }
  if (Number.isFinite(usec) && usec > 0 && forUs) {
    const everyMs = Math.max(1, Math.floor(usec / 2000))
    let due = now() + everyMs
    timer = setInterval(() => {
      const lag = now() - due
      due = now() + everyMs
      if (state.stopped) return
      if (lag > everyMs / 2) {
        opts.log.warn('event loop stalled; watchdog ping skipped', { lagMs: lag })
        return
      }
      if (opts.healthy !== undefined && !opts.healthy()) return
      state.pings++
      notify('WATCHDOG=1')
    }, everyMs)
    timer.unref()
  }
  return {
    ready: () => notify('READY=1'),
    stopping: () => {
      state.stopped = true
      if (timer !== undefined) clearInterval(timer)
      notify('STOPPING=1')
    },
    get pings() {
      return state.pings
    },
  }
}
