/** One open worker thread (gateway/open-workers.ts): builds the gateway's opener from `workerData`, opens the batches the main thread posts, one batch of replies back. */
import { parentPort, workerData } from 'node:worker_threads'
import { directoryResolver } from '../messaging/receiver.js'
import { peerDirectory } from '../settings/peers.js'
import { systemClock } from '../src/clock.js'
import { getProvider } from '../src/crypto/get-provider.js'
import { isDaneelError } from '../src/errors.js'
import { createLogger } from '../src/log.js'
import { createOpener } from '../src/message/open.js'
import type { OpenWorkerData, WorkerReply } from './open-workers.js'

const d = workerData as OpenWorkerData
const port = parentPort
if (port === null) throw new Error('open-worker.js runs as a worker thread (gateway/open-workers.ts)')
const { settings } = d
const log = createLogger({ name: 'gateway-open', level: settings.logLevel, json: settings.logFormat === 'json' })

// The gateway's opener (gateway/run.ts), here per thread: the store's UNIQUE(node, seq) is the replay guard.
const opener = createOpener({
  provider: getProvider(settings.cryptoProvider),
  recipientName: d.me,
  recipientKey: d.recipientKey,
  recipientKeys: d.recipientKeys,
  resolveSender: directoryResolver(peerDirectory(settings, log), settings.trustedDomains),
  trustedDomains: settings.trustedDomains,
  legacyDomains: d.legacyDomains,
  maxMessageSize: settings.maxMessageSize,
  clock: systemClock,
  maxAgeMs: d.maxAgeMs,
  replay: { check: () => true },
  // unbound messages (LEGACY_DOMAINS): the store's legacy_digests is the durable guard, as in gateway/run.ts
  unboundReplay: { check: () => true },
})

const refusal = (id: number, err: unknown): WorkerReply =>
  isDaneelError(err)
    ? { id, ok: false, code: err.code, message: err.message, cause: String(err.cause ?? '') }
    : { id, ok: false, code: 'ERR_INTERNAL', message: 'internal error in an open worker', cause: String(err) }

// A batch in (the messages the main thread took in one turn), one batch of replies out for those opened at once;
// a message waiting for its sender's lookup answers alone when it is done.
port.on('message', (batch: { id: number; message: Uint8Array | string }[]) => {
  const replies: WorkerReply[] = []
  for (const { id, message } of batch) {
    let r: ReturnType<typeof opener.openNow>
    try {
      r = opener.openNow(message)
    } catch (err) {
      replies.push(refusal(id, err))
      continue
    }
    if (r instanceof Promise)
      r.then(
        (opened) => port.postMessage([{ id, ok: true, opened }]),
        (err) => port.postMessage([refusal(id, err)]),
      )
    else replies.push({ id, ok: true, opened: r })
  }
  if (replies.length > 0) port.postMessage(replies)
})
