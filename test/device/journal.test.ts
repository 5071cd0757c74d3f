/** The journal's 'alive' line: every 10 minutes on the injected timers, with the counters; nothing after stop(). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { JOURNAL_INTERVAL_MS, startJournal } from '../../device/journal.js'
import { FakeClock } from '../../sensors/fakes/fake-clock.js'
import { createLogger } from '../../src/log.js'

test('one alive line per 10 minutes with readings, sealed, acknowledged and outbox depth', () => {
  const timers = new FakeClock()
  const lines: string[] = []
  let readings = 0
  const j = startJournal({
    timers,
    log: createLogger({ level: 'info', write: (l) => lines.push(l) }),
    stats: () => ({ readings, sealed: readings * 2, acknowledged: readings, outbox: 3 }),
  })
  assert.equal(JOURNAL_INTERVAL_MS, 600_000)
  readings = 7
  timers.advance(599_999)
  assert.equal(lines.length, 0, 'nothing before 10 minutes')
  timers.advance(1)
  assert.equal(lines.length, 1)
  assert.match(lines[0] ?? '', /alive/)
  assert.match(lines[0] ?? '', /"readings":7/)
  assert.match(lines[0] ?? '', /"sealed":14/)
  assert.match(lines[0] ?? '', /"acknowledged":7/)
  assert.match(lines[0] ?? '', /"outbox":3/)
  readings = 9
  timers.advance(3 * 600_000)
  assert.equal(lines.length, 4)
  assert.match(lines[3] ?? '', /"readings":9/)
  j.stop()
  assert.equal(timers.pending, 0, 'stop() leaves no timer')
  timers.advance(3_600_000)
  assert.equal(lines.length, 4)
})
