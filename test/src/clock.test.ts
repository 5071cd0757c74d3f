/** src/clock.ts: synced (plausible) versus certain (confirmed by NTP), and the one classification of temporary faults. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fixedClock, linuxClock } from '../../src/clock.js'
import { DaneelError, isTemporary } from '../../src/errors.js'

describe('linuxClock', () => {
  it('without timesyncd, past the build date is synced but not certain (chrony, a container)', () => {
    const c = linuxClock({ notBefore: 0, exists: () => false })
    assert.equal(c.synced(), true)
    assert.equal(c.certain?.(), false)
  })
  it('with timesyncd, neither until it says so, however late the clock reads (a restored fake-hwclock time)', () => {
    let ntp = false
    const files = (): Set<string> =>
      new Set(ntp ? ['/run/systemd/timesync', '/run/systemd/timesync/synchronized'] : ['/run/systemd/timesync'])
    const c = linuxClock({ notBefore: 0, exists: (p) => files().has(p) })
    assert.equal(c.synced(), false)
    assert.equal(c.certain?.(), false)
    ntp = true
    assert.equal(c.synced(), true)
    assert.equal(c.certain?.(), true)
  })
  it('DANEEL_TIME_SYNC_FILE: only that file counts, whatever the date and whether or not timesyncd runs (a chrony hook)', () => {
    for (const timesyncd of [false, true]) {
      let hook = false
      const files = (): Set<string> =>
        new Set([
          ...(timesyncd ? ['/run/systemd/timesync', '/run/systemd/timesync/synchronized'] : []),
          ...(hook ? ['/run/chrony/synced'] : []),
        ])
      const c = linuxClock({ notBefore: 0, exists: (p) => files().has(p), syncFile: '/run/chrony/synced' })
      assert.equal(c.synced(), false, `timesyncd ${timesyncd}`)
      assert.equal(c.certain?.(), false)
      hook = true
      assert.equal(c.synced(), true)
      assert.equal(c.certain?.(), true)
      hook = false
      assert.equal(c.synced(), true, 'once synced, stays synced')
    }
  })
  it('before the build date is neither', () => {
    const c = linuxClock({ notBefore: Date.now() + 86_400_000, exists: () => false })
    assert.equal(c.synced(), false)
    assert.equal(c.certain?.(), false)
  })
  it('fixedClock: certain follows synced unless given', () => {
    assert.equal(fixedClock(0).certain?.(), true)
    assert.equal(fixedClock(0, false).certain?.(), false)
    assert.equal(fixedClock(0, true, false).certain?.(), false)
  })
})

describe('isTemporary', () => {
  it('retries faults that clear by themselves and internal errors; a verdict on the message is permanent', () => {
    for (const code of [
      'ERR_DNS_TIMEOUT',
      'ERR_DNS_SERVFAIL',
      'ERR_DNSSEC_INDETERMINATE',
      'ERR_CLOCK_UNSYNCED',
      'ERR_IO',
      'ERR_INTERNAL',
    ] as const)
      assert.equal(isTemporary(new DaneelError(code, 'x')), true, code)
    assert.equal(isTemporary(new TypeError('bug')), true)
    for (const code of [
      'ERR_JWS_SIGNATURE',
      'ERR_JWE_DECRYPT',
      'ERR_SENDER_UNTRUSTED',
      'ERR_REPLAY',
      'ERR_JWT_CLAIMS',
      'ERR_MESSAGE_TOO_LARGE',
      'ERR_DNSSEC_BOGUS',
      'ERR_JWT_FUTURE',
    ] as const)
      assert.equal(isTemporary(new DaneelError(code, 'x')), false, code)
  })
})
