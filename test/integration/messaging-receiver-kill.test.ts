/** Ack after durable: `daneel listen` SIGKILLed three times during a 2,000-message backlog loses nothing. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type Listener,
  RX,
  seqOf,
  startListener,
  startSender,
  startWorld,
  TX,
  type World,
  waitFor,
  writeSenderScript,
} from './messaging-setup.js'

const TOTAL = 2000
/** Mosquitto's max_inflight_messages in testkit/mosquitto.ts: at most this many unacknowledged per connection. */
const INFLIGHT = 20

describe('messaging: listen killed with a backlog', { timeout: 240_000 }, () => {
  let w: World
  before(async () => {
    w = await startWorld('daneel-rxkill-')
  })
  after(async () => {
    await w?.stop()
  })

  it('SIGKILL three times during a 2,000-message backlog (persistent session, QoS 1): 0 lost, duplicates only from killed runs', async () => {
    const args = ['--client-id', 'kill-receiver']
    // the session and its subscription exist before the backlog is sent, then the receiver is away
    let rx: Listener = startListener(w, args, 'state-rx')
    await rx.ready()
    rx.proc.kill('SIGTERM')
    await new Promise((r) => rx.proc.once('exit', r))
    const tx = startSender(w, writeSenderScript(w), TX, [RX, TOTAL, 100, 5])
    await waitFor(() => tx.out().includes('done'), 120_000, `sender done (${tx.out()})`)

    const runs: { lines: number[]; killed: boolean }[] = []
    const distinct = (): number => new Set(runs.flatMap((r) => r.lines)).size
    for (const target of [400, 900, 1400]) {
      rx = startListener(w, args, 'state-rx')
      const run = { lines: [] as number[], killed: true }
      runs.push(run)
      const lines = rx.lines
      await waitFor(() => distinct() + lines.length >= target || rx.proc.exitCode !== null, 60_000, `${target} lines`)
      rx.proc.kill('SIGKILL')
      await new Promise((r) => rx.proc.once('exit', r))
      run.lines = lines.map(seqOf)
    }
    rx = startListener(w, args, 'state-rx')
    const last = { lines: [] as number[], killed: false }
    runs.push(last)
    const lines = rx.lines
    await waitFor(() => new Set([...runs.flatMap((r) => r.lines), ...lines.map(seqOf)]).size >= TOTAL, 120_000, 'the whole backlog')
    await new Promise((r) => setTimeout(r, 500)) // a late duplicate would show now
    const stats = await rx.stats()
    last.lines = lines.map(seqOf)

    const all = runs.flatMap((r) => r.lines)
    const seen = new Map<number, number>()
    for (const n of all) seen.set(n, (seen.get(n) ?? 0) + 1)
    const lost = [...Array(TOTAL).keys()].map((i) => i + 1).filter((n) => !seen.has(n))
    const dups = [...seen].filter(([, c]) => c > 1).map(([n]) => n)
    process.stderr.write(
      `# listen SIGKILL x3 during a ${TOTAL}-message backlog: lines per run ${runs.map((r) => r.lines.length).join(', ')}; ` +
        `distinct ${seen.size}, lost ${lost.length}, printed twice ${dups.length} [${dups.join(', ')}]; last run ${JSON.stringify(stats)}\n`,
    )
    assert.deepEqual(lost, [], 'nothing lost')
    assert.equal(seen.size, TOTAL)
    // a duplicate is a line written by a killed run before its PUBACK went out: at most the in-flight window per kill
    assert.ok(dups.length <= 3 * INFLIGHT, `${dups.length} duplicates`)
    for (const n of dups) {
      const first = runs.findIndex((r) => r.lines.includes(n))
      assert.ok(runs[first]?.killed, `seq ${n} was first printed by a run that was not killed`)
      assert.equal(seen.get(n), 2, `seq ${n} printed ${seen.get(n)} times`)
    }
    // in each run, a number is printed once
    for (const r of runs) assert.equal(new Set(r.lines).size, r.lines.length)
  })
})
