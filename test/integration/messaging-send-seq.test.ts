/** `daneel send` sequence numbers on one state directory: 40 at once all distinct and all accepted; a deleted sequence file does not make the next one a replay. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { cliPath } from '../../testkit/paths.js'
import { RX, startListener, startWorld, TX, type World, waitFor } from './messaging-setup.js'

function send(w: World, message: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cliPath, 'send', RX, message], {
      env: { ...w.env, DANE_ID: TX, DANEEL_STATE: join(w.dir, 'state-tx') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    w.children.push(p)
    let out = ''
    let err = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.stderr.on('data', (d: Buffer) => (err += d.toString()))
    p.on('exit', (code) => resolve({ code, out, err }))
  })
}

describe('daneel send: sequence numbers on a shared state directory', { timeout: 300_000 }, () => {
  let w: World
  before(async () => {
    w = await startWorld('daneel-send-seq-', [RX, TX])
  })
  after(async () => {
    await w?.stop()
  })

  it('40 concurrent sends get 40 distinct numbers and the receiver accepts all 40; after the file is deleted the next is accepted', async () => {
    const rx = startListener(w, ['--client-id', 'seq-rx'], 'state-rx')
    await rx.ready()
    const runs = await Promise.all(Array.from({ length: 40 }, (_, i) => send(w, `{"i":${i}}`)))
    for (const r of runs) assert.equal(r.code, 0, r.err)
    const seqs = runs.map((r) => (JSON.parse(r.out) as { seq: number }).seq)
    assert.equal(new Set(seqs).size, 40, `distinct: ${seqs.join(',')}`)
    await waitFor(() => rx.lines.length >= 40, 60_000, `40 accepted (${rx.lines.length}; ${rx.stderr().slice(-2000)})`)
    const stats = await rx.stats()
    assert.deepEqual(stats.rejected, {}, 'no replay rejections')
    // The receiver has seen numbers up to max(seqs); the file is lost, and a lingering lock from a dead send too.
    const state = join(w.dir, 'state-tx')
    const seqFile = readdirSync(state).find((n) => n.startsWith('seq.') && n.endsWith('.json')) as string
    rmSync(join(state, seqFile))
    writeFileSync(join(state, `${seqFile}.lock`), '999999999\n')
    const r = await send(w, '{"after":"lost"}')
    assert.equal(r.code, 0, r.err)
    assert.match(r.err, /starting from the time seed/)
    const next = (JSON.parse(r.out) as { seq: number }).seq
    assert.ok(next > Math.max(...seqs), `${next} above ${Math.max(...seqs)}`)
    await waitFor(() => rx.lines.length >= 41, 30_000, `the reading after the loss accepted (${rx.stderr().slice(-2000)})`)
    assert.deepEqual((await rx.stats()).rejected, {})
    rx.proc.kill('SIGTERM')
  })
})
