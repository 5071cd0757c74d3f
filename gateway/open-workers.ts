/** Opens across cores: worker threads, each with its own opener and DANE directory, behind the one `Opener` interface. */
import type { KeyObject } from 'node:crypto'
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { Settings } from '../settings/settings.js'
import { DaneelError, type ErrorCode } from '../src/errors.js'
import type { Logger } from '../src/log.js'
import type { OpenedMessage, Opener } from '../src/message/open.js'

/*
 * Why and when:
 * - An open is two P-256 operations (key agreement, ECDSA verify) and little else (bench:seal): about 0.3 ms of
 *   one core here, 1–1.5 ms on a Pi 4. The main thread also runs MQTT, the group commit and HTTP, so a burst
 *   of opens is what queues. Workers take the opens; everything with an order or a durability rule stays on
 *   the main thread (the MQTT source acknowledges in arrival order, after the commit: gateway/mqtt-source.ts).
 * - Default (`defaultOpenWorkers`): none on 1–2 cores, cores − 1 above. With two cores a worker competes with
 *   the main thread and the store's commits for the second core (two workers on a shared 2-core machine gave
 *   0.84–1.42x, issue 15); with four (a Pi 4) three workers leave the main thread a core of its own.
 * - Each worker builds its opener from the same settings: its own DANE directory (a lookup per worker per TTL,
 *   not per message), the same trusted and legacy domains, the same replay rule (the store's UNIQUE(node, seq)).
 * - Keys: the private keys travel as KeyObjects by structured clone in `workerData` (Node clones a KeyObject
 *   into the worker's memory); never a file, never a log line.
 * - Faults: a refusal comes back as its DaneelError code (the source counts and acknowledges permanent ones as
 *   before); a worker that dies fails its in-flight messages with ERR_INTERNAL, a temporary code, so the source
 *   retries them unacknowledged, and a new worker takes its place.
 */

/** Worker threads for opens when `--open-workers` is not given: 0 on 1–2 cores, else cores − 1 (see above). */
export function defaultOpenWorkers(cores = availableParallelism()): number {
  return cores <= 2 ? 0 : cores - 1
}

/** What a worker needs to build its opener (all structured-clonable). */
export interface OpenWorkerData {
  settings: Settings
  me: string
  recipientKey: KeyObject
  recipientKeys: KeyObject[]
  maxAgeMs: number
  legacyDomains: string[]
}

export interface OpenWorkersOptions extends Omit<OpenWorkerData, 'legacyDomains'> {
  workers: number
  legacyDomains?: readonly string[]
  log: Logger
}

/** What a worker answers for one message. */
export type WorkerReply =
  | { id: number; ok: true; opened: OpenedMessage }
  | { id: number; ok: false; code: ErrorCode; message: string; cause: string }

export interface OpenWorkers extends Opener {
  readonly size: number
  /** Messages handed to workers and not answered yet. */
  readonly inFlight: number
  /** The threads as they run now (a supervisor or a test may terminate one: it is replaced, its messages retried). */
  readonly threads: readonly Worker[]
  close(): Promise<void>
}

interface Pending {
  resolve: (m: OpenedMessage) => void
  reject: (err: unknown) => void
}

interface Slot {
  worker: Worker
  pending: Map<number, Pending>
  /** False from its exit until its replacement starts: nothing is posted to it. */
  alive: boolean
  /** Messages for it taken in this event-loop turn: posted together at the end of the turn (one wake-up, not one per message). */
  batch: { id: number; message: Uint8Array | string }[]
  transfer: ArrayBuffer[]
}

/**
 * The worker's script: open-worker.js beside this module (tsc output, build/gateway/), or in the bundles
 * (esbuild.config.mjs) the entry dist/daneel-open-worker.js, with this code in dist/ or dist/chunks/.
 */
function workerUrl(): URL {
  for (const rel of ['./open-worker.js', './daneel-open-worker.js', '../daneel-open-worker.js']) {
    const url = new URL(rel, import.meta.url)
    if (existsSync(url)) return url
  }
  throw new DaneelError('ERR_INTERNAL', 'the open worker script is missing (open-worker.js, or daneel-open-worker.js beside the bundle)')
}

/** A worker that dies this soon after its start is restarted only after this delay (no restart loop on a fault that stays). */
const QUICK_DEATH_MS = 2000

export function startOpenWorkers(o: OpenWorkersOptions): OpenWorkers {
  if (!Number.isSafeInteger(o.workers) || o.workers < 1) throw new TypeError('startOpenWorkers needs at least one worker')
  const data: OpenWorkerData = {
    settings: o.settings,
    me: o.me,
    recipientKey: o.recipientKey,
    recipientKeys: o.recipientKeys,
    maxAgeMs: o.maxAgeMs,
    legacyDomains: [...(o.legacyDomains ?? o.settings.legacyDomains)],
  }
  const url = workerUrl()
  let nextId = 0
  let closing = false
  let inFlight = 0
  const slots: Slot[] = []

  const spawn = (i: number): void => {
    const started = Date.now()
    const worker = new Worker(url, { workerData: data, name: `daneel-open-${i}` })
    const slot: Slot = { worker, pending: new Map(), alive: true, batch: [], transfer: [] }
    slots[i] = slot
    worker.on('message', (replies: WorkerReply[]) => {
      for (const r of replies) {
        const p = slot.pending.get(r.id)
        if (p === undefined) continue
        slot.pending.delete(r.id)
        inFlight--
        if (r.ok) p.resolve(r.opened)
        else p.reject(new DaneelError(r.code, r.message, { cause: new Error(r.cause) }))
      }
    })
    worker.on('error', (err) => o.log.error('open worker failed', { worker: i, error: err.message }))
    worker.on('exit', (code) => {
      slot.alive = false
      // whatever it held is retried by the source (temporary), never acknowledged as refused
      for (const p of slot.pending.values())
        p.reject(new DaneelError('ERR_INTERNAL', 'open worker exited', { cause: new Error(`exit ${code}`) }))
      inFlight -= slot.pending.size
      slot.pending.clear()
      if (!closing) {
        const delay = Date.now() - started < QUICK_DEATH_MS ? QUICK_DEATH_MS : 0
        o.log.warn('open worker exited; starting another', { worker: i, code, inMs: delay })
        setTimeout(() => closing || spawn(i), delay).unref()
      }
    })
  }
  for (let i = 0; i < o.workers; i++) spawn(i)

  /** Posts a slot's batch (a dead worker's messages are failed by its exit handler: they are in `pending`). */
  const post = (slot: Slot): void => {
    const batch = slot.batch
    const transfer = slot.transfer
    slot.batch = []
    slot.transfer = []
    if (slot.alive) slot.worker.postMessage(batch, transfer)
  }

  return {
    size: o.workers,
    get inFlight() {
      return inFlight
    },
    get threads() {
      return slots.map((s) => s.worker)
    },
    open(message) {
      if (closing) return Promise.reject(new DaneelError('ERR_INTERNAL', 'open workers closed'))
      // the least busy live worker: opens cost about the same, so in-flight count is the queue length
      let slot: Slot | undefined
      for (const s of slots) if (s.alive && (slot === undefined || s.pending.size < slot.pending.size)) slot = s
      if (slot === undefined) return Promise.reject(new DaneelError('ERR_INTERNAL', 'no open worker running (restarting)'))
      const target = slot
      const id = nextId++
      inFlight++
      return new Promise<OpenedMessage>((resolve, reject) => {
        target.pending.set(id, { resolve, reject })
        if (target.batch.length === 0) setImmediate(post, target)
        if (typeof message === 'string') target.batch.push({ id, message })
        else {
          // A clone of a view clones its whole ArrayBuffer: MQTT.js hands us slices of the socket's read chunk (up
          // to 64 KiB). The message's own bytes, moved (transferred), not copied again.
          const own = new Uint8Array(message)
          target.batch.push({ id, message: own })
          target.transfer.push(own.buffer)
        }
      })
    },
    async close() {
      closing = true
      await Promise.all(slots.map((s) => s.worker.terminate()))
    },
  }
}
