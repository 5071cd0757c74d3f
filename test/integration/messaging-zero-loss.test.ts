/** Zero loss: 10,000 sealed readings through Mosquitto restarted twice and a sender killed with SIGKILL once; each arrives once. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { RX, seqOf, startListener, startSender, startWorld, TX, type World, waitFor, writeSenderScript } from './messaging-setup.js'

const TOTAL = 10_000

describe('messaging: zero loss under faults', { timeout: 240_000 }, () => {
  let w: World
  before(async () => {
    w = await startWorld('daneel-zeroloss-')
  })
  after(async () => {
    await w?.stop()
  })

  it('delivers every sequence number exactly once through 2 broker restarts and a sender kill -9', async () => {
    const rx = startListener(w, ['--client-id', 'zl-receiver'], 'state-rx')
    await rx.ready()
    const script = writeSenderScript(w)
    // ~2,000 readings/s, so the faults land mid-stream
    const args = [RX, TOTAL, 20, 10]
    let tx = startSender(w, script, TX, args)
    const got = (): number => rx.lines.length
    const faults: string[] = []

    await waitFor(() => got() >= 1500, 60_000, '1500 delivered')
    await w.broker.restart()
    faults.push(`broker restart at ${got()}`)

    await waitFor(() => got() >= 3500, 60_000, '3500 delivered')
    tx.kill('SIGKILL')
    await new Promise((r) => tx.once('exit', r))
    faults.push(`sender SIGKILL at ${got()}`)
    tx = startSender(w, script, TX, args)

    await waitFor(() => got() >= 6000, 60_000, '6000 delivered')
    await w.broker.restart()
    faults.push(`broker restart at ${got()}`)

    await waitFor(() => tx.out().includes('done'), 120_000, `sender done (${tx.out()})`)
    await waitFor(() => got() >= TOTAL, 60_000, `all ${TOTAL} delivered (have ${got()})`)
    await new Promise((r) => setTimeout(r, 500)) // any late duplicate would show up now
    const stats = await rx.stats()

    const seqs = rx.lines.map(seqOf)
    const unique = new Set(seqs)
    assert.equal(seqs.length, TOTAL, `printed ${seqs.length} lines for ${unique.size} distinct readings`)
    assert.equal(unique.size, TOTAL)
    for (let n = 1; n <= TOTAL; n++) assert.ok(unique.has(n), `reading ${n} lost`)
    assert.ok(rx.lines.every((l) => l.from === TX && l.auth === 'dnssec' && typeof l.receivedAt === 'string'))
    assert.equal(stats.opened, TOTAL)
    // every publication beyond TOTAL was a QoS 1 duplicate, refused as a replay
    // (ack after durable: a redelivered copy of a message still in the pipeline joins it instead of being refused)
    const joined = (stats as { duplicatesJoined?: number }).duplicatesJoined ?? 0
    assert.equal(stats.received - TOTAL, (stats.rejected.ERR_REPLAY ?? 0) + joined, JSON.stringify(stats))
    process.stderr.write(
      `# zero-loss: ${faults.join('; ')}; received ${stats.received}, duplicates refused ${stats.rejected.ERR_REPLAY ?? 0}\n`,
    )
  })
})
