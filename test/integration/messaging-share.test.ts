/** Two `daneel listen --share GROUP` receivers split one stream: each gets some, together all, none twice. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { RX, seqOf, startListener, startSender, startWorld, TX, type World, waitFor, writeSenderScript } from './messaging-setup.js'

const TOTAL = 2000

describe('messaging: shared subscriptions', { timeout: 120_000 }, () => {
  let w: World
  before(async () => {
    w = await startWorld('daneel-share-')
  })
  after(async () => {
    await w?.stop()
  })

  it('splits a stream between two receivers of one group', async () => {
    // Separate state dirs: each receiver keeps its own replay guard, as two gateway hosts would.
    const a = startListener(w, ['--share', 'gw', '--client-id', 'share-a', '--stats', '1'], 'state-a')
    const b = startListener(w, ['--share', 'gw', '--client-id', 'share-b'], 'state-b')
    await Promise.all([a.ready(), b.ready()])
    const tx = startSender(w, writeSenderScript(w), TX, [RX, TOTAL, 20, 5])
    await waitFor(() => tx.out().includes('done'), 60_000, `sender done (${tx.out()})`)
    await waitFor(() => a.lines.length + b.lines.length >= TOTAL, 30_000, `${TOTAL} delivered (${a.lines.length} + ${b.lines.length})`)
    await new Promise((r) => setTimeout(r, 300))
    const sa = a.lines.map(seqOf)
    const sb = b.lines.map(seqOf)
    assert.ok(sa.length > 0 && sb.length > 0, `each gets some: ${sa.length} / ${sb.length}`)
    const setA = new Set(sa)
    assert.equal(setA.size, sa.length, 'no duplicates at receiver a')
    assert.equal(new Set(sb).size, sb.length, 'no duplicates at receiver b')
    assert.deepEqual(
      sb.filter((n) => setA.has(n)),
      [],
      'none twice across the group',
    )
    assert.equal(sa.length + sb.length, TOTAL, 'together all')
    const all = new Set([...sa, ...sb])
    for (let n = 1; n <= TOTAL; n++) assert.ok(all.has(n), `reading ${n} lost`)
    // --stats 1 printed counters periodically, without any signal
    const periodic = a
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{"stats"'))
    assert.ok(periodic.length >= 2, `periodic stats lines: ${periodic.length}`)
    const lastOpened = (JSON.parse(periodic.at(-1) as string) as { stats: { opened: number } }).stats.opened
    assert.ok(lastOpened > 0 && lastOpened <= sa.length, `periodic count ${lastOpened} of ${sa.length}`)
    process.stderr.write(`# share: receiver a ${sa.length}, receiver b ${sb.length}\n`)
  })
})
