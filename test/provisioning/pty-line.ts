/** Test helper: a socat pseudo-terminal pair (the device end and the operator's end) and a line driver for the operator's end. */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, constants, existsSync, openSync, readFileSync, readSync } from 'node:fs'
import { join } from 'node:path'
import tty from 'node:tty'

export interface PtyPair {
  /** What the provisioner opens (--serial). */
  device: string
  /** The operator's end. */
  host: string
  /**
   * Takes off the device end whatever was written to it and never read (a request fired at a provisioner that was
   * killed before it read it), so the next provisioner starts on an empty line. Call only when no provisioner has the
   * device open. `send` writes to the host end: a marker goes through socat behind everything sent before it (one
   * FIFO), so once the marker is read back here, every unread byte has been seen. Returns those bytes.
   */
  takeUnread(send: (text: string) => void): Promise<string>
  stop(): Promise<void>
}

let markers = 0

/** Starts `socat pty,raw,echo=0 pty,raw,echo=0` in `dir` and waits for both links. */
export async function startPtyPair(dir: string): Promise<PtyPair> {
  const device = join(dir, 'ttyDEV')
  const host = join(dir, 'ttyHOST')
  const socat: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${host}`], { stdio: 'ignore' })
  const deadline = Date.now() + 5000
  while (!(existsSync(device) && existsSync(host))) {
    if (Date.now() > deadline || socat.exitCode !== null) {
      socat.kill('SIGKILL')
      throw new Error('socat did not create the pty pair')
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  // Keep one descriptor open on the device end for the whole test: between a killed provisioner and its rerun
  // nobody else holds it, and the pair must survive that gap like a real UART does.
  const holder = openSync(device, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK)
  return {
    device,
    host,
    takeUnread: async (send) => {
      const marker = `<<unread-marker-${++markers}>>`
      send(marker)
      const buf = Buffer.alloc(4096)
      let got = ''
      const deadline = Date.now() + 30_000
      for (;;) {
        const at = got.indexOf(marker)
        if (at >= 0) return got.slice(0, at) + got.slice(at + marker.length)
        if (Date.now() > deadline) throw new Error(`the marker never came through the pty pair; read: ${JSON.stringify(got)}`)
        let n = 0
        try {
          n = readSync(holder, buf)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err
        }
        if (n > 0) got += buf.toString('latin1', 0, n)
        else await new Promise((r) => setTimeout(r, 5))
      }
    },
    stop: async () => {
      closeSync(holder)
      if (socat.exitCode === null) {
        const gone = new Promise((r) => socat.once('exit', r))
        socat.kill('SIGTERM')
        await gone
      }
    },
  }
}

/** The operator's end: everything received is kept (to prove no secret ever crossed the line). */
export class HostLine {
  transcript = ''
  readonly #in: tty.ReadStream
  readonly #out: tty.WriteStream
  #waiters: Array<() => void> = []

  constructor(path: string) {
    const rfd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK)
    const wfd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK)
    this.#in = new tty.ReadStream(rfd)
    this.#in.setRawMode(true)
    this.#out = new tty.WriteStream(wfd)
    this.#in.setEncoding('latin1')
    this.#in.on('data', (d: string) => {
      this.transcript += d
      for (const w of this.#waiters.splice(0)) w()
    })
  }

  send(text: string): void {
    this.#out.write(text, 'latin1')
  }

  /** Waits until the transcript after `from` matches `re`; returns the match and where it ends. */
  async waitFor(re: RegExp, from: number, timeoutMs = 30_000): Promise<{ match: RegExpExecArray; end: number }> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`)
      g.lastIndex = from
      const m = g.exec(this.transcript)
      if (m !== null) return { match: m, end: m.index + m[0].length }
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${re} in: ${JSON.stringify(this.transcript.slice(from).slice(-800))}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.#waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  #nextId = 1
  /** Sends a JSON request and waits for the reply line carrying its id. */
  async request(req: Record<string, unknown>, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const id = this.#nextId++
    const from = this.transcript.length
    this.send(`${JSON.stringify({ ...req, id })}\n`)
    const { match } = await this.waitFor(new RegExp(`\\{"v":1,"id":${id},[^\\r\\n]*\\}(?=\\r\\n)`), from, timeoutMs)
    return JSON.parse(match[0]) as Record<string, unknown>
  }

  /** Sends a request without waiting (the test kills the provisioner mid-step); returns the bytes written. */
  fire(req: Record<string, unknown>): string {
    const text = `${JSON.stringify({ ...req, id: this.#nextId++ })}\n`
    this.send(text)
    return text
  }

  close(): void {
    this.#in.destroy()
    this.#out.destroy()
  }
}

/** Bytes process `pid` has read so far (`rchar` of /proc/PID/io, proc(5)); undefined once it is gone. */
function bytesRead(pid: number): number | undefined {
  try {
    const m = /^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))
    return m === null ? undefined : Number(m[1])
  } catch {
    return undefined
  }
}

/**
 * Writes `text` to the line with `write` and waits until process `pid` has read at least that many more bytes: an
 * idle console reads nothing else, so the request is then in its hands. On a loaded machine the console may not
 * run for a while after the write; a SIGKILL sent by time alone would then land before the step rather than
 * during it. Returns false if that was not seen within `timeoutMs` (or the process is gone).
 */
export async function writeAndSeeRead(pid: number, write: () => string, timeoutMs = 30_000): Promise<boolean> {
  const before = bytesRead(pid)
  const len = Buffer.byteLength(write(), 'latin1')
  if (before === undefined) return false
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const now = bytesRead(pid)
    if (now === undefined) return false
    if (now - before >= len) return true
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 1))
  }
}
