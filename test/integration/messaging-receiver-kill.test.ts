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
    rx.proc.kill('SIGTERM')
    await new Promise((r) => rx.proc.once('exit', r))

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

  it('listen | head -n 3: EPIPE ends listen with exit 0, and what it could not write is delivered to the next run', async () => {
    const args = ['--client-id', 'kill-receiver']
    const tx = startSender(w, writeSenderScript(w), TX, [RX, TOTAL + 30, 30, 5])
    await waitFor(() => tx.out().includes('done'), 60_000, `sender done (${tx.out()})`)
    // like `head -n 3`: read three lines, then close the pipe
    const rx = startListener(w, args, 'state-rx')
    await waitFor(() => rx.lines.length >= 3, 60_000, '3 lines')
    const read = rx.lines.slice(0, 3).map(seqOf)
    rx.proc.stdout?.destroy()
    const code = await new Promise<number | null>((r) => rx.proc.once('exit', (c) => r(c)))
    const stats = JSON.parse(
      rx
        .stderr()
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{"stats"'))
        .pop() ?? '{}',
    ).stats as { delivered: number; acked: number }
    const next = startListener(w, args, 'state-rx')
    const want = Array.from({ length: 30 }, (_, i) => TOTAL + 1 + i)
    // the first run wrote `delivered` lines into the pipe (the ones past the third sit unread in it, as with head)
    await waitFor(() => next.lines.length + stats.delivered >= 30, 60_000, `the rest (${next.lines.length} + ${stats.delivered})`)
    await new Promise((r) => setTimeout(r, 300))
    const rest = next.lines.map(seqOf)
    process.stderr.write(
      `# listen | head -n 3 over 30: exit ${code}; first run wrote ${stats.delivered} lines, acknowledged ${stats.acked}; the next run printed ${rest.length}\n`,
    )
    assert.equal(code, 0)
    assert.ok(!/^\s+at |uncaught|unhandled/im.test(rx.stderr()), `no crash: ${rx.stderr()}`)
    assert.ok(stats.acked <= stats.delivered, 'nothing acknowledged that was not written')
    assert.equal(rest.length + stats.delivered, 30, 'every message written once: by the first run, or by the next')
    for (const n of read) assert.ok(want.includes(n))
    assert.equal(new Set([...rest, ...read]).size, rest.length + read.length, 'nothing twice')
  })
})
