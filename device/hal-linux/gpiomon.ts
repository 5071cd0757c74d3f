/** A Gpio on the GPIO character device through a long-lived `gpiomon` (libgpiod v1 or v2): kernel edge timestamps. */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import type { EdgeListener, EdgeMode, Gpio, Level } from '../../sensors/hal.js'
import { DaneelError } from '../../src/errors.js'

/*
 * Why: onoff timestamps edges in JS when its epoll callback runs (ms jitter, worse under GC); the chardev uAPI
 * stamps them in the kernel, and it is the non-deprecated interface, but Node needs a native addon to issue its
 * ioctls. `gpiomon` (Debian package `gpiod`) is that addon as a process: spawned once, one line per edge.
 * Output formats (libgpiod tools/gpiomon.c):
 *   v1 (Debian 12 / Pi OS Bookworm, 1.6.3): `gpiomon -b -F '%e %s %n' [-r|-f] <chip> <offset>`;
 *     %e 0 falling / 1 rising, %s seconds, %n nanoseconds (printf %ld: NOT zero-padded); -b = line-buffered stdout.
 *   v2 (2.x): `gpiomon --banner -F '%e %S' [-e edges] <line name>` or `-c <chip> <offset>`;
 *     %e 1 rising / 2 falling, %S seconds.nanoseconds (monotonic clock by default); stdout flushed each poll.
 * Line names (`GPIO17`) come from the Pi device trees and survive chip renumbering (gpiochip4 → gpiochip0 on the
 * Pi 5 from 6.6.47); v1 resolves them with `gpiofind`. The chardev and sysfs cannot hold the same line at once.
 */

export interface GpiomonOptions {
  /** Chip for an offset-based request (default: look the line up by its name `GPIO<bcm>`). */
  chip?: string
  edge?: EdgeMode
  /** Executables (default from PATH): gpiomon, gpiofind (v1 name lookup), gpioget (initial level). */
  gpiomon?: string
  gpiofind?: string
  gpioget?: string
}

function run(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: 5000 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr: String(stderr) }))
      else resolve(String(stdout))
    })
  })
}

/** Turn a gpiomon/gpioget failure into ERR_GPIO with the likely cause. */
function explain(what: string, err: unknown, stderr = ''): DaneelError {
  const e = err as NodeJS.ErrnoException & { stderr?: string }
  const text = `${stderr}${e?.stderr ?? ''}`.trim()
  let why = text || e?.message || String(err)
  if (e?.code === 'ENOENT') why = 'not installed (apt install gpiod)'
  else if (/busy/i.test(text))
    why = `line busy (EBUSY): a kernel driver, an overlay or another process (sysfs export, onoff) holds it — ${text}`
  else if (/permission denied/i.test(text)) why = `permission denied (EACCES): the user needs the gpio group — ${text}`
  return new DaneelError('ERR_GPIO', `${what}: ${why}`, { cause: err })
}

/** Parse one gpiomon line into [level, µs]; null if it is not an event line (banner, blank). */
export function parseGpiomonLine(line: string, major: number): [Level, number] | null {
  const p = line.trim().split(/\s+/)
  if (major >= 2) {
    const m = /^(\d+)\.(\d{1,9})$/.exec(p[1] ?? '')
    if ((p[0] !== '1' && p[0] !== '2') || m === null) return null
    return [p[0] === '1' ? 1 : 0, Number(m[1]) * 1e6 + Math.floor(Number((m[2] as string).padEnd(9, '0')) / 1000)]
  }
  if ((p[0] !== '0' && p[0] !== '1') || !/^\d+$/.test(p[1] ?? '') || !/^\d+$/.test(p[2] ?? '')) return null
  return [p[0] === '1' ? 1 : 0, Number(p[1]) * 1e6 + Math.floor(Number(p[2]) / 1000)]
}

export class GpiomonGpio implements Gpio {
  readonly major: number
  /** Set when gpiomon dies; read() then throws it. */
  lastError: DaneelError | null = null
  private readonly proc: ChildProcess
  private level: Level
  private listener: EdgeListener | null = null
  private partial = ''
  private closed = false

  constructor(proc: ChildProcess, major: number, initial: Level) {
    this.proc = proc
    this.major = major
    this.level = initial
    proc.stdout?.setEncoding('utf8')
    proc.stdout?.on('data', (chunk: string) => this.onChunk(chunk))
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    proc.on('exit', (code, signal) => {
      if (!this.closed) this.lastError = explain('gpiomon exited', new Error(`code ${code} signal ${signal}`), stderr)
    })
  }

  private onChunk(chunk: string): void {
    const text = this.partial + chunk
    let start = 0
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const ev = parseGpiomonLine(text.slice(start, nl), this.major)
      start = nl + 1
      if (ev === null) continue
      this.level = ev[0]
      this.listener?.(ev[0], ev[1])
    }
    this.partial = text.slice(start)
  }

  /** The level after the last edge (gpioget's at start). Throws ERR_GPIO once gpiomon has died. */
  read(): Level {
    if (this.lastError !== null) throw this.lastError
    return this.level
  }

  watch(listener: EdgeListener): void {
    this.listener = listener
  }

  unwatch(): void {
    this.listener = null
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.listener = null
    this.proc.kill('SIGTERM')
  }
}

/** Start monitoring BCM pin `bcm`. Resolves once gpiomon holds the line; throws ERR_GPIO saying why not. */
export async function openGpiomon(bcm: number, opts: GpiomonOptions = {}): Promise<GpiomonGpio> {
  const bin = opts.gpiomon ?? 'gpiomon'
  const edge = opts.edge ?? 'both'
  let version: string
  try {
    version = await run(bin, ['--version'])
  } catch (err) {
    throw explain('gpiomon', err)
  }
  const major = Number(/v(\d+)\./.exec(version)?.[1] ?? Number.NaN)
  if (!(major >= 1)) throw new DaneelError('ERR_GPIO', `gpiomon: unrecognised version output: ${version.trim()}`)
  let chip = opts.chip
  let offset = String(bcm)
  if (chip === undefined && major < 2) {
    try {
      const found = (await run(opts.gpiofind ?? 'gpiofind', [`GPIO${bcm}`])).trim().split(/\s+/)
      chip = found[0]
      offset = found[1] ?? offset
    } catch (err) {
      throw explain(`gpiofind GPIO${bcm}`, err)
    }
  }
  const line = chip === undefined ? [`GPIO${bcm}`] : major >= 2 ? ['-c', chip, offset] : [chip as string, offset]
  // Initial level, before gpiomon takes the line (both cannot hold it).
  let initial: Level = 1
  try {
    const out = await run(opts.gpioget ?? 'gpioget', major >= 2 ? line : [chip as string, offset])
    initial = /inactive|^\s*0/.test(out) ? 0 : 1
  } catch {
    // Unknown: assume the idle HIGH of an open-collector output with pull-up; the first edge corrects it.
  }
  const args =
    major >= 2
      ? ['--banner', '-F', '%e %S', '-e', edge, ...line]
      : ['-b', '-F', '%e %s %n', ...(edge === 'rising' ? ['-r'] : edge === 'falling' ? ['-f'] : []), ...line]
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  // v2 prints a banner once the line is requested; v1 has none, so give it a moment to fail (busy, no such line).
  const ok = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(major < 2), major >= 2 ? 5000 : 300)
    proc.once('exit', () => {
      clearTimeout(timer)
      resolve(false)
    })
    proc.once('error', () => {
      clearTimeout(timer)
      resolve(false)
    })
    if (major >= 2)
      proc.stdout.once('data', () => {
        clearTimeout(timer)
        resolve(true)
      })
  })
  if (!ok) {
    proc.kill('SIGTERM')
    throw explain(`gpiomon ${args.join(' ')}`, new Error('gpiomon did not start'), stderr)
  }
  return new GpiomonGpio(proc, major, initial)
}
