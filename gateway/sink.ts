/** The gateway's receiver sink: an opened message → IncomingMessage → group commit; resolves once its batch committed. */
import type { OpenedMessage } from '../src/message/open.js'
import { toIncoming } from './incoming.js'
import type { Ingest } from './ingest.js'
import type { CommitOutcome, IncomingMessage } from './store/types.js'

/**
 * The contract a receiver acknowledges by (messaging/receiver.ts `ReceiverSink`): `deliver` resolves once the
 * message's outcome is durable (here: its transaction committed, as 'stored' or 'duplicate'), so the PUBACK may
 * go out; it rejects with a DaneelError for a permanent refusal (acknowledged as rejected, counted by code).
 * A store failure is never a rejection: the ingest retries it and `deliver` simply takes longer.
 */
export interface ReceiverSink {
  deliver(opened: OpenedMessage, raw: Uint8Array, receivedAt: number): Promise<void>
}

export interface GatewaySinkOptions {
  ingest: Ingest
  /** Runs after the commit, for each message newly stored (SSE, Home Assistant); never for a duplicate. */
  onStored?: (m: IncomingMessage) => void
  /** Runs for a permanent refusal here (the message is no reading), with its code. */
  onRejected?: (code: string) => void
  /** Wall clock ms (receive → commit latency goes to the ingest's metrics). */
  now?: () => number
}

export class GatewaySink implements ReceiverSink {
  readonly #ingest: Ingest
  readonly #onStored: ((m: IncomingMessage) => void) | undefined
  readonly #onRejected: ((code: string) => void) | undefined
  readonly #now: () => number

  constructor(o: GatewaySinkOptions) {
    this.#ingest = o.ingest
    this.#onStored = o.onStored
    this.#onRejected = o.onRejected
    this.#now = o.now ?? Date.now
  }

  async deliver(opened: OpenedMessage, raw: Uint8Array, receivedAt: number): Promise<void> {
    let m: IncomingMessage
    try {
      m = toIncoming(opened, raw, receivedAt)
    } catch (err) {
      this.#onRejected?.((err as { code?: string }).code ?? 'ERR_INTERNAL')
      throw err
    }
    // Wait for room first: the ingest takes a message pushed past its high water, but a well-behaved source
    // holds back (this promise, still unresolved, keeps the PUBACK back and so the broker's window closed).
    await this.#ingest.drained()
    const outcome = await new Promise<CommitOutcome>((resolve) => this.#ingest.push(m, resolve))
    this.#ingest.metrics.receiveToCommit.observe(Math.max(0, this.#now() - receivedAt) / 1000)
    if (outcome === 'stored') this.#onStored?.(m)
  }
}
