/** The provisioning line protocol: bytes to lines (a person's terminal or a script), commands or JSON lines to requests, replies back. */
import { DaneelError } from '../src/errors.js'
import type { Reply, Request } from './session.js'
import type { KeyType } from './state.js'

/*
 * Wire rules:
 * - A line ends at CR, LF or CR LF (a terminal in raw mode sends CR for Enter).
 * - A line over MAX_LINE bytes is dropped up to its end and answered with an error: a resync point, so garbage
 *   on the wire (a sensor chattering, a baud mismatch) never grows memory or wedges the parser.
 * - Backspace/DEL erase a character and Ctrl-C/Ctrl-U the line, so a person can correct a typo; other control
 *   bytes are dropped. Nothing is echoed: echo would repeat a typed password back over the line.
 * - A line starting with `{` is a JSON request and gets a one-line JSON reply with the same `id`;
 *   anything else is a typed command and gets text lines ending in `ok` or `error CODE: message`.
 */
export const MAX_LINE = 64 * 1024

export type LineEvent = { line: string } | { overflow: true }

/** Splits a byte stream into lines with the rules above. Feed it chunks; it returns the complete events. */
export class LineSplitter {
  #buf = ''
  #discarding = false
  #lastCR = false

  feed(chunk: Uint8Array | string): LineEvent[] {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1')
    const out: LineEvent[] = []
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c === 0x0a && this.#lastCR) {
        this.#lastCR = false
        continue
      }
      this.#lastCR = c === 0x0d
      if (c === 0x0a || c === 0x0d) {
        out.push(this.#discarding ? { overflow: true } : { line: this.#buf })
        this.#buf = ''
        this.#discarding = false
      } else if (this.#discarding) {
        // skip to the end of the oversized line
      } else if (c === 0x08 || c === 0x7f) {
        this.#buf = this.#buf.slice(0, -1)
      } else if (c === 0x03 || c === 0x15) {
        this.#buf = ''
      } else if (c === 0x09) {
        this.#buf += ' '
      } else if (c >= 0x20) {
        this.#buf += text[i]
        if (this.#buf.length > MAX_LINE) {
          this.#buf = ''
          this.#discarding = true
        }
      }
    }
    return out
  }

  /** Drops a half-typed line (idle timeout). */
  reset(): void {
    this.#buf = ''
    this.#discarding = false
  }
}

const usage = (msg: string): DaneelError => new DaneelError('ERR_USAGE', msg)

function keyTypeOf(v: unknown): KeyType {
  if (v === 'p256' || v === 'rsa2048') return v
  throw usage(`key type must be p256 or rsa2048, not ${JSON.stringify(v)}`)
}

/** Parses a typed command. `install` alone returns a marker: the PEM follows on the next lines. */
export function parseTextCommand(line: string): Request | { op: 'install-begin' } | undefined {
  const trimmed = line.trim()
  if (trimmed === '') return undefined
  const [word = '', ...rest] = trimmed.split(/\s+/)
  const op = word.toLowerCase()
  const flags = new Set(rest.map((r) => r.toLowerCase()))
  switch (op) {
    case 'hello':
    case 'help':
    case '?':
    case 'status':
    case 'tlsa':
    case 'csr':
    case 'quit':
    case 'exit':
      return { op: op === '?' ? 'help' : op === 'exit' ? 'quit' : op }
    case 'set': {
      const key = rest[0]
      if (key === undefined || rest.length < 2) throw usage('usage: set KEY VALUE')
      // The value is the rest of the line as typed (a domain list may contain spaces after commas).
      const value = trimmed.slice(trimmed.indexOf(key, 3) + key.length).trim()
      return { op: 'set', values: { [key]: value } }
    }
    case 'unset':
      if (rest.length === 0) throw usage('usage: unset KEY')
      return { op: 'unset', keys: rest }
    case 'create': {
      let keyType: KeyType | undefined
      for (const f of flags) if (f !== 'csr' && f !== 'force') keyType = keyTypeOf(f)
      return { op: 'create', ...(keyType === undefined ? {} : { keyType }), csr: flags.has('csr'), force: flags.has('force') }
    }
    case 'install':
      return { op: 'install-begin' }
    case 'check':
      return { op: 'check', wait: flags.has('wait') }
    case 'finish':
      return { op: 'finish', force: flags.has('force') }
    default:
      throw usage(`unknown command '${word}' (try help)`)
  }
}

/** Parses a JSON request line into its id and request. */
export function parseJsonRequest(line: string): { id: unknown; req: Request } {
  let msg: unknown
  try {
    msg = JSON.parse(line)
  } catch {
    throw usage('not valid JSON')
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) throw usage('a request is a JSON object')
  const m = msg as Record<string, unknown>
  const id = m.id ?? null
  const str = (k: string): string | undefined => (typeof m[k] === 'string' ? (m[k] as string) : undefined)
  switch (m.op) {
    case 'hello':
    case 'help':
    case 'status':
    case 'tlsa':
    case 'csr':
    case 'quit':
      return { id, req: { op: m.op } }
    case 'set': {
      if (m.values !== undefined) {
        if (m.values === null || typeof m.values !== 'object' || Array.isArray(m.values))
          throw usage('set: values must be an object of strings')
        // no prototype: `values.__proto__ = v` would otherwise set nothing and the request would answer ok
        const values: Record<string, string> = Object.create(null)
        for (const [k, v] of Object.entries(m.values as Record<string, unknown>)) {
          if (typeof v !== 'string') throw usage(`set: ${k} must be a string`)
          values[k] = v
        }
        if (Object.keys(values).length === 0) throw usage('set: no values')
        return { id, req: { op: 'set', values } }
      }
      const key = str('key')
      const value = str('value')
      if (key === undefined || value === undefined) throw usage('set needs {"key","value"} or {"values":{...}}')
      return { id, req: { op: 'set', values: { [key]: value } } }
    }
    case 'unset': {
      const keys = Array.isArray(m.keys)
        ? m.keys.filter((k): k is string => typeof k === 'string')
        : [str('key')].filter((k): k is string => k !== undefined)
      if (keys.length === 0) throw usage('unset needs "key" or "keys"')
      return { id, req: { op: 'unset', keys } }
    }
    case 'create':
      return {
        id,
        req: {
          op: 'create',
          ...(m.keyType === undefined ? {} : { keyType: keyTypeOf(m.keyType) }),
          csr: m.csr === true,
          force: m.force === true,
        },
      }
    case 'install': {
      const pem = str('pem')
      if (pem === undefined) throw usage('install needs "pem"')
      return { id, req: { op: 'install', pem } }
    }
    case 'check':
      return { id, req: { op: 'check', wait: m.wait === true } }
    case 'finish':
      return { id, req: { op: 'finish', force: m.force === true } }
    default:
      throw usage(`unknown op ${JSON.stringify(m.op)}`)
  }
}

/** One JSON line for a script. */
export function formatJsonReply(id: unknown, reply: Reply): string {
  const out: Record<string, unknown> = { v: 1, id, ok: reply.ok }
  if (reply.result !== undefined) out.result = reply.result
  if (reply.lines !== undefined) out.lines = reply.lines
  if (reply.error !== undefined) out.error = reply.error
  return `${JSON.stringify(out)}\r\n`
}

/** Text lines for a person: the reply's lines, then `ok` or `error CODE: message`. CR LF for raw terminals. */
export function formatTextReply(reply: Reply): string {
  const lines = [...(reply.lines ?? [])]
  lines.push(reply.ok ? 'ok' : `error ${reply.error?.code ?? 'ERR_PROVISION'}: ${reply.error?.message ?? 'failed'}`)
  return `${lines.join('\r\n')}\r\n`
}
