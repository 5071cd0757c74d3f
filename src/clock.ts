/** Injectable clocks. A Pi has no RTC: a clock can say it has not synced yet, and time checks then fail closed. */

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
  /** False until the system clock is known to be right (NTP synced); date checks must then be indeterminate. */
  synced(): boolean
  /**
   * False while the time is only plausible, not confirmed (past the build date, but not NTP synced: a stale
   * fake-hwclock can be hours behind). A DNSSEC signature failing only on its validity period is then
   * indeterminate, not bogus. Absent means as `synced()`.
   */
  certain?(): boolean
}

/** The system clock, trusted as synced (servers, tests, and devices with an RTC or checked NTP). */
export const systemClock: Clock = { now: () => Date.now(), synced: () => true }

/** A fixed clock for tests and recorded fixtures. */
export function fixedClock(ms: number, synced = true, certain = synced): Clock {
  return { now: () => ms, synced: () => synced, certain: () => certain }
}

/** systemd-timesyncd's sign of its first synchronisation (systemd-timesyncd.service(8)); linuxClock's default. */
export const TIMESYNCD_SYNCED = '/run/systemd/timesync/synchronized'

/**
 * A clock that reports synced once systemd-timesyncd says so (it creates /run/systemd/timesync/synchronized at its
 * first synchronisation, systemd-timesyncd.service(8)). Where timesyncd runs (its directory /run/systemd/timesync
 * exists), nothing else counts: a Pi without an RTC boots at its last saved time (fake-hwclock, or timesyncd's own
 * clock file), which is past any release date yet hours or days behind, and a reading sealed then would carry a
 * wrong time. Without timesyncd (chrony, a container without /run/systemd), a time past `notBefore` (the build
 * date) is the best evidence there is. `syncFile` (DANEEL_TIME_SYNC_FILE) names another sign, e.g. a file a chrony
 * or ntpd hook creates once the time is set: then only that file counts, as timesyncd's does where it runs (the
 * operator said which sign to trust; a release date cannot tell a stale clock from a right one). Pass `exists` to
 * test it.
 */
export function linuxClock(opts: { notBefore: number; exists: (path: string) => boolean; syncFile?: string | undefined }): Clock {
  let known = false
  let confirmed = false
  const syncFile = opts.syncFile
  const ntpSaysSo = (): boolean => opts.exists(syncFile ?? TIMESYNCD_SYNCED)
  const fallback = (): boolean => syncFile === undefined && !opts.exists('/run/systemd/timesync') && Date.now() > opts.notBefore
  return {
    now: () => Date.now(),
    certain: () => {
      if (!confirmed) confirmed = ntpSaysSo()
      return confirmed
    },
    synced: () => {
      if (known) return true
      known = ntpSaysSo() || fallback()
      return known
    },
  }
}
