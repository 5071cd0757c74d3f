/** Worker for pair-race.test.ts: rotates an identity again and again (stage, commit, finish) while the test reads it. */
import { parentPort, workerData } from 'node:worker_threads'
import { commitNext, finishRollover, stageNext } from '../../../src/identity/rollover.js'

const { cryptoPath, name, rounds, flag } = workerData as { cryptoPath: string; name: string; rounds: number; flag: SharedArrayBuffer }
const done = new Int32Array(flag)
try {
  for (let i = 0; i < rounds; i++) {
    stageNext(cryptoPath, name, { now: Date.now() })
    commitNext(cryptoPath, name, { now: Date.now() })
    finishRollover(cryptoPath, name)
  }
  parentPort?.postMessage({ ok: true })
} catch (err) {
  parentPort?.postMessage({ ok: false, error: String(err) })
} finally {
  Atomics.store(done, 0, 1)
}
