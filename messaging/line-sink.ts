/** The `daneel listen` sink: one JSON line per opened message, durable once the write's callback fired. */
import { DaneelError } from '../src/errors.js'
import type { OpenedMessage } from '../src/message/open.js'
import type { ReceiverSink } from './receiver.js'

export interface LineOutput {
  write(chunk: string, cb: (err?: Error | null) => void): boolean
}

/**
 * The line: {"from", "claims" (a claims-bound message), "payload" (base64url, a binary or unbound payload) and
 * "payloadText" (the same as text when it is valid UTF-8, as `daneel open` prints it), "auth", "receivedAt"}.
 * `deliver` resolves once the write callback fired (the bytes are with the kernel: a SIGKILL after it does not
 * lose them). A write error rejects with ERR_IO (temporary: the receiver keeps the message unacknowledged);
 * EPIPE (the reader went away, `listen | head -n 3`) also calls `onClosed` once, so the caller can stop.
 */
export function jsonLineSink(out: LineOutput, onClosed: (err: Error) => void = () => {}): ReceiverSink {
  let closed: Error | undefined
  return {
    deliver(m: OpenedMessage, _raw: Uint8Array, receivedAt: number): Promise<void> {
      if (closed !== undefined) return Promise.reject(new DaneelError('ERR_IO', 'output closed', { cause: closed }))
      const line: Record<string, unknown> = { from: m.from }
      if (m.claims !== undefined) line.claims = m.claims
      if (m.reading !== undefined) line.reading = m.reading
      if (m.payload !== undefined) {
        const bytes = Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength)
        line.payload = bytes.toString('base64url')
        const text = bytes.toString('utf8')
        if (!text.includes('\uFFFD')) line.payloadText = text
      }
      line.auth = m.auth
      line.receivedAt = new Date(receivedAt).toISOString()
      return new Promise((resolve, reject) => {
        out.write(`${JSON.stringify(line)}\n`, (err) => {
          if (err === undefined || err === null) return resolve()
          if ((err as NodeJS.ErrnoException).code === 'EPIPE' && closed === undefined) {
            closed = err
            onClosed(err)
          }
          reject(
            new DaneelError('ERR_IO', `cannot write the output: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }),
          )
        })
      })
    },
  }
}
