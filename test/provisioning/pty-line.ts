/** Test helper: a socat pseudo-terminal pair (the device end and the operator's end) and a line driver for the operator's end. */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, constants, existsSync, openSync } from 'node:fs'
import { join } from 'node:path'
import tty from 'node:tty'

export interface PtyPair {
  /** What the provisioner opens (--serial). */
  device: string
  /** The operator's end. */
  host: string
  stop(): Promise<void>
}

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

  /** Sends a request without waiting (the test kills the provisioner mid-step). */
  fire(req: Record<string, unknown>): void {
    this.send(`${JSON.stringify({ ...req, id: this.#nextId++ })}\n`)
  }

  close(): void {
    this.#in.destroy()
    this.#out.destroy()
  }
}
