/** The provisioning console: opens a serial tty raw (stty + tty streams, no native code) and runs the line protocol over it. */
import { PassThrough, type Readable } from 'node:stream'
import type { Uart } from '../sensors/hal.js'
import { DaneelError } from '../src/errors.js'
import { formatJsonReply, formatTextReply, LineSplitter, parseJsonRequest, parseTextCommand } from './line-protocol.js'
import type { ProvisionSession, Reply, Request } from './session.js'

export interface LineIo {
  input: Readable
  write(text: string): void
  close(): void
}

/** Opens a serial line at a speed: device/hal-linux/uart.ts `openUart` on a device (cli/commands/provision.ts passes it). */
export type UartOpener = (path: string, baud: number) => Promise<Uart>

/**
 * Opens a serial device for the console through a Uart (device/hal-linux's, one tty code path in the project):
 * `stty raw -echo ... clocal cread` so the kernel's line discipline neither echoes (a typed secret would go
 * straight back) nor cooks the bytes, opened O_NOCTTY (a hang-up must never SIGHUP the provisioner), read by
 * libuv's non-blocking tty handle. The Uart's handles are unref'd (a sensor line must not keep the runtime
 * alive), but here the line is the whole point, so a timer holds the process until close().
 */
export async function openSerial(openUart: UartOpener, path: string, baud = 115200): Promise<LineIo> {
  const uart = await openUart(path, baud)
  const input = new PassThrough()
  uart.onData((bytes) => input.write(bytes))
  // EOF or an I/O error on a serial line means the other end went away (USB host disconnected): end the session.
  uart.onError(() => input.end())
  const hold = setInterval(() => {}, 1 << 30)
  return {
    input,
    write: (text) => uart.write(Buffer.from(text, 'latin1')),
    close: () => {
      clearInterval(hold)
      uart.close()
      input.destroy()
    },
  }
}

/** The console on this process's stdin/stdout (`--stdio`): the terminal keeps its own modes and echo. */
export function openStdio(): LineIo {
  return { input: process.stdin, write: (t) => void process.stdout.write(t), close: () => process.stdin.pause() }
}

export type ConsoleEnd = 'finished' | 'quit' | 'eof'

export interface ConsoleOptions {
  /** Drop a half-typed line or PEM paste after this much silence (ms); 0 disables. */
  idleMs?: number
  banner?: string
}

const PROMPT = 'daneel> '

/** The id of a JSON request line, or null when it has none (or is not JSON): what its reply must carry. */
function requestId(line: string): unknown {
  try {
    const m: unknown = JSON.parse(line)
    return m !== null && typeof m === 'object' && !Array.isArray(m) ? ((m as { id?: unknown }).id ?? null) : null
  } catch {
    return null
  }
}
const PEM_END = /^-----END CERTIFICATE-----$/
const MAX_PEM = 64 * 1024

/** Runs the protocol until `finish`, `quit` or end of input. Requests run one at a time, in order. */
export function runConsole(io: LineIo, session: ProvisionSession, opts: ConsoleOptions = {}): Promise<ConsoleEnd> {
  const splitter = new LineSplitter()
  const queue: string[] = []
  let pem: string[] | undefined
  let busy = false
  let ended = false
  let inputEnded = false
  let idle: NodeJS.Timeout | undefined
  // A JSON reply must be a line of its own: after a prompt (no newline yet) it starts with CR LF.
  let atPrompt = false
  const out = (text: string): void => {
    io.write(atPrompt && text.startsWith('{') ? `\r\n${text}` : text)
    atPrompt = text.endsWith(PROMPT)
  }

  return new Promise<ConsoleEnd>((resolve) => {
    const finish = (how: ConsoleEnd): void => {
      if (ended) return
      ended = true
      if (idle !== undefined) clearTimeout(idle)
      io.input.off('data', onData)
      // Requests already read behind the one that ended the console (a script that pipelined `status` after
      // `finish`) get a reply saying they did not run, never silence.
      for (const line of queue.splice(0)) {
        if (line.trim() === '') continue
        const r: Reply = { ok: false, error: { code: 'ERR_PROVISION', message: `not run: the console closed (${how})` } }
        out(line.trimStart().startsWith('{') ? formatJsonReply(requestId(line), r) : formatTextReply(r))
      }
      resolve(how)
    }
    const reply = async (json: boolean, id: unknown, req: Request): Promise<boolean> => {
      const r: Reply = await session.handle(req)
      out(json ? formatJsonReply(id, r) : `${formatTextReply(r)}${r.end === true ? '' : PROMPT}`)
      if (r.end === true) finish(req.op === 'finish' ? 'finished' : 'quit')
      return r.end === true
    }
    const handleLine = async (line: string): Promise<void> => {
      if (pem !== undefined) {
        if (line.trim().toLowerCase() === 'abort') {
          pem = undefined
          out(`install aborted\r\n${PROMPT}`)
          return
        }
        if (line.trim() === '' && pem.length === 0) return
        pem.push(line.trim())
        if (pem.join('\n').length > MAX_PEM) {
          pem = undefined
          out(`error ERR_PEM_INVALID: certificate too long\r\n${PROMPT}`)
        } else if (PEM_END.test(line.trim())) {
          const text = `${pem.join('\n')}\n`
          pem = undefined
          await reply(false, null, { op: 'install', pem: text })
        }
        return
      }
      const json = line.trimStart().startsWith('{')
      let id: unknown = null
      let req: Request | { op: 'install-begin' } | undefined
      try {
        if (json) ({ id, req } = parseJsonRequest(line))
        else req = parseTextCommand(line)
      } catch (err) {
        const e = err instanceof DaneelError ? err : new DaneelError('ERR_USAGE', 'bad request')
        const r: Reply = { ok: false, error: { code: e.code, message: e.message } }
        out(json ? formatJsonReply(id, r) : `${formatTextReply(r)}${PROMPT}`)
        return
      }
      if (req === undefined) {
        out(PROMPT)
        return
      }
      if (req.op === 'install-begin') {
        pem = []
        out('paste the certificate (PEM); it ends at -----END CERTIFICATE----- (abort to cancel)\r\n')
        return
      }
      await reply(json, id, req)
    }
    const pump = async (): Promise<void> => {
      if (busy) return
      busy = true
      while (!ended && queue.length > 0) await handleLine(queue.shift() as string)
      busy = false
      if (inputEnded) finish('eof')
    }
    const armIdle = (): void => {
      if (opts.idleMs === undefined || opts.idleMs <= 0) return
      if (idle !== undefined) clearTimeout(idle)
      idle = setTimeout(() => {
        if (pem !== undefined) out(`\r\ninstall timed out; type install to paste again\r\n${PROMPT}`)
        pem = undefined
        splitter.reset()
      }, opts.idleMs)
      idle.unref()
    }
    const onData = (chunk: Buffer | string): void => {
      armIdle()
      for (const ev of splitter.feed(chunk)) {
        if ('line' in ev) queue.push(ev.line)
        else out(formatTextReply({ ok: false, error: { code: 'ERR_USAGE', message: 'line too long; dropped' } }))
      }
      void pump()
    }
    io.input.on('data', onData)
    // At end of input, let a request in progress complete (its files are written atomically either way).
    const onEnd = (): void => {
      inputEnded = true
      if (!busy) finish('eof')
    }
    io.input.once('end', onEnd)
    io.input.once('close', onEnd)
    io.input.once('error', onEnd)
    out(`${opts.banner ?? 'daneel provisioning: type help (scripts: JSON lines, {"op":"hello"})'}\r\n${PROMPT}`)
  })
}
