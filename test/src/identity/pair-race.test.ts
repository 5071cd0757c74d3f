/** A device reading its identity while `identity rotate --commit` replaces it never sees a key with the other key's certificate. */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { join } from 'node:path'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { isDaneelError } from '../../../src/errors.js'
import { createIdentity, loadIdentity } from '../../../src/identity/store.js'
import { makeTempDir } from '../../../testkit/paths.js'

const NAME = 'race1.airquality._device.example.test'

test('loadIdentity during 20 back-to-back rotations in another thread: every load is a matching pair, and rotations were seen', async (t) => {
  const tmp = makeTempDir('daneel-pair-race-')
  t.after(() => tmp.cleanup())
  const cryptoPath = join(tmp.dir, 'crypto')
  createIdentity({ cryptoPath, daneId: NAME })
  const flag = new SharedArrayBuffer(4)
  const done = new Int32Array(flag)
  const worker = new Worker(new URL('./rotate-worker.js', import.meta.url), {
    workerData: { cryptoPath, name: NAME, rounds: 20, flag },
  })
  const result = once(worker, 'message')
  let loads = 0
  const mismatches: string[] = []
  const keys = new Set<string>()
  // The reader spins on this thread while the worker rotates: loads land at every point of a commit.
  while (Atomics.load(done, 0) === 0) {
    try {
      const id = loadIdentity(cryptoPath, NAME)
      loads++
      keys.add(id.certDer === undefined ? 'no cert' : Buffer.from(id.certDer).toString('base64').slice(-40))
    } catch (err) {
      if (isDaneelError(err, 'ERR_KEY_MISMATCH')) mismatches.push(err.message)
      else throw err
    }
  }
  const [res] = (await result) as [{ ok: boolean; error?: string }]
  await worker.terminate()
  assert.ok(res.ok, res.error)
  assert.deepEqual(mismatches, [], `${mismatches.length} mismatched pairs in ${loads + mismatches.length} loads`)
  assert.ok(!keys.has('no cert'), 'a certificate was always there')
  assert.ok(keys.size >= 5, `the reader saw the identity change (${keys.size} distinct certificates in ${loads} loads)`)
  process.stderr.write(`# pair race: ${loads} loads, ${keys.size} distinct certificates, 0 mismatches\n`)
})
