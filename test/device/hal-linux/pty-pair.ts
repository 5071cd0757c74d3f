/** Test helper: a socat pseudo-terminal pair in a temp dir; the "sensor" end is driven with plain fs and node:tty. */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, constants, existsSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { ReadStream } from 'node:tty'

export interface PtyPair {
  /** The device's end (what the driver opens, like /dev/ttyAMA0). */
  device: string
  /** The test's end: write frames, read commands. */
  sensor: string
  /** Bytes the driver wrote, accumulated. */
  received(): Buffer
  /** Resolve when `pred(received)` holds (polls; rejects after `ms`). */
  until(pred: (b: Buffer) => boolean, ms?: number): Promise<void>
  send(bytes: Uint8Array | string): void
  /** Also hand each chunk the driver writes to `fn` as it arrives (a chip emulator on the sensor's end). */
  listen(fn: ((chunk: Buffer) => void) | null): void
  /** Kill socat (the PID this helper started) and close the test's fds. */
  stop(): Promise<void>
  readonly proc: ChildProcess
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export async function startPtyPair(dir: string): Promise<PtyPair> {
  const device = join(dir, 'ttyDEV')
  const sensor = join(dir, 'ttySENSOR')
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${sensor}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  proc.stderr?.on('data', (d: Buffer) => {
    log += d.toString()
  })
  const t0 = Date.now()
  // socat logs "starting data transfer loop" once both ptys exist.
  while (!(existsSync(device) && existsSync(sensor) && log.includes('starting data transfer loop'))) {
    if (proc.exitCode !== null || Date.now() - t0 > 5000) {
      proc.kill()
      throw new Error(`socat did not start: ${log}`)
    }
    await sleep(20)
  }
  const rfd = openSync(sensor, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK)
  const wfd = openSync(sensor, constants.O_WRONLY | constants.O_NOCTTY)
  const rs = new ReadStream(rfd)
  let got = Buffer.alloc(0)
  let listener: ((chunk: Buffer) => void) | null = null
  rs.on('data', (d: Buffer) => {
    got = Buffer.concat([got, d])
    listener?.(d)
  })
  rs.on('error', () => {})
  return {
    device,
    sensor,
    proc,
    received: () => got,
    async until(pred, ms = 5000) {
      const start = Date.now()
      while (!pred(got)) {
        if (Date.now() - start > ms) throw new Error(`timed out; received ${got.toString('hex')}`)
        await sleep(10)
      }
    },
    listen(fn) {
      listener = fn
    },
    send(bytes) {
      const b = typeof bytes === 'string' ? Buffer.from(bytes, 'hex') : bytes
      let off = 0
      while (off < b.length) off += writeSync(wfd, b, off, b.length - off)
    },
    async stop() {
      rs.destroy()
      try {
        closeSync(wfd)
      } catch {}
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r))
        proc.kill('SIGTERM')
        await exited
      }
    },
  }
}
