/** The device loop: sample each sensor on its interval, seal each reading to every recipient, append to the outbox. */

import type { SequenceStore } from '../messaging/sequence.js'
import { canSleep, type SensorDriver, type SensorStatus } from '../sensors/driver.js'
import type { TimerClock, TimerHandle } from '../sensors/hal.js'
import { READING_KEYS, type ReadingKey, Readings } from '../sensors/readings.js'
import type { Clock } from '../src/clock.js'
import type { Logger } from '../src/log.js'
import { DutyCycle, type DutyPlan, restampWindow } from './duty.js'
import type { HeldStore } from './held-store.js'
import { HumidityRideAlong } from './humidity-ride-along.js'
import { LaserHours } from './laser-hours.js'
import { healthChange, summaryStatus } from './status.js'

/*
 * Allocation budget (STYLE "A pure core"): everything per sensor and per recipient is built in the constructor --
 * the Readings object the driver writes into, the reading object that is sealed (same keys, updated in place; the
 * sealer writes it as the `r` claim beside aud, iat and seq, so no claims object is built per tick),
 * topics, and the one bound tick function. A tick calls driver.sample(out) (allocation-free by contract), copies
 * the numbers into the claims object and hands it to each recipient's sealer, whose output goes to the outbox.
 * The only per-reading allocation left is the sealer's and the outbox's. Health changes (rare) allocate a status
 * message.
 */

/** Seals a claims object for one recipient (the message pipeline's `createSealer(...)` result). */
export interface ReadingSealer {
  seal(reading: object, opts: { now: number; seq: number }): string | Uint8Array
}

/** Where sealed messages go: the durable outbox (messaging), which publishes them at QoS 1. */
export interface LoopOutbox {
  /** messaging/outbox.ts resolves once the entry is durable; a rejection (disk full, I/O error) is logged, never thrown. */
  /** A string is stored as its UTF-8 bytes (the outbox writes it into its record: no intermediate copy). */
  append(topic: string, payload: Uint8Array | string): unknown
}

export interface LoopRecipient {
  /** Identity name; also the MQTT topic (docs/contract.md "Names"). */
  readonly name: string
  /** Undefined while the recipient's key is being looked up (DNS down at boot): readings are held until it is set. */
  sealer: ReadingSealer | undefined
}

/** Readings held at most while they cannot be sealed (clock unsynced, a recipient's key unknown): one a second for about 17 minutes. */
export const DEFAULT_HOLD_MAX = 1000

/** A message taken while it could not be sealed: its claims (copied) and the monotonic time it was taken. */
interface Held {
  readonly claims: object
  readonly atMs: number
}

export interface LoopSensor {
  readonly driver: SensorDriver
  readonly intervalMs: number
  /** Window readings (duty.ts), the chip asleep between windows when the plan sleeps and the driver can (canSleep). */
  readonly duty?: DutyPlan
}

export interface LoopOptions {
  readonly sensors: readonly LoopSensor[]
  readonly recipients: readonly LoopRecipient[]
  readonly outbox: LoopOutbox
  readonly sequence: SequenceStore
  /** Wall clock for the claims' time. */
  readonly clock: Clock
  /** Monotonic timers for the schedule. */
  readonly timers: TimerClock
  readonly log: Logger
  /** Periodic status message interval (0: only on health changes). */
  readonly statusIntervalMs: number
  /** Software version, carried in the periodic status message. */
  readonly version?: string
  /** Messages in the outbox not yet acknowledged, carried in the periodic status message. */
  readonly outboxDepth?: () => number
  /** Messages held at most while they cannot be sealed (default DEFAULT_HOLD_MAX); beyond it the oldest go. */
  readonly holdMax?: number
  /** Laser-on hours of the PM sensors (laser-hours.ts), persisted and reported in the periodic status message. */
  readonly laser?: LaserHours
  /** Where held messages are written as they are held (held-store.ts), so a restart does not lose them; read at construction. */
  readonly heldStore?: HeldStore
}

/** A reading as sealed: `{ sensor, model, values: {pm25: 8, ...} }`, under the `r` claim (the sealer adds aud, iat, seq). */
interface ReadingClaims {
  readonly sensor: string
  readonly model: string
  values: Partial<Record<ReadingKey, number>>
}

/** Per-sensor slot, built once. */
interface Slot {
  readonly driver: SensorDriver
  readonly intervalMs: number
  readonly out: Readings
  readonly claims: ReadingClaims
  /** Keys this model writes (learned from the first fresh reading; re-learned if the set changes). */
  keys: ReadingKey[]
  dueMs: number
  reportedHealth: SensorStatus['health']
  /** Set when the sensor is duty-cycled: it then takes its own schedule and makes window readings. */
  readonly duty: DutyCycle | undefined
}

export interface LoopStats {
  readings: number
  sealed: number
  statusMessages: number
  sealErrors: number
  appendErrors: number
  /** Readings and status messages taken while the clock was not synchronised (held, sealed once it is). */
  unsynced: number
  /** Messages held now (clock unsynced or a recipient's key unknown), and those dropped because the hold was full. */
  held: number
  heldDropped: number
  /** Held messages found at start-up from before the last reboot (held-store.ts): no recoverable time, dropped. */
  heldLostReboot: number
  /** Lines of the held messages' file that could not be read at start-up (a crash mid-write): skipped. */
  heldUnreadable: number
}

export class DeviceLoop {
  readonly stats: LoopStats = {
    readings: 0,
    sealed: 0,
    statusMessages: 0,
    sealErrors: 0,
    appendErrors: 0,
    unsynced: 0,
    held: 0,
    heldDropped: 0,
    heldLostReboot: 0,
    heldUnreadable: 0,
  }
  private held: Held[] = []
  private holdLogged = ''
  private slots: Slot[] = []
  private recipients: readonly LoopRecipient[] = []
  private readonly opts: LoopOptions
  private readonly tickFn: () => void
  private timer: TimerHandle | undefined
  /** The last timer armed and its delay, to arm it again for the same period (schedule()). */
  private lastTimer: TimerHandle | undefined
  private lastTimerMs = -1
  private running = false
  private statusDueMs = 0
  private lastSealError = ''
  /** One context object for every seal (sealers read it synchronously and keep nothing). */
  private readonly ctx = { now: 0, seq: 0 }
  /** A duty cycle's step result, reused. */
  private readonly closed = { closed: false }
  private readonly startedMs: number
  private readonly appendFailed: (err: unknown) => void
  private lastAppendError = ''
  /** Appends not yet settled (SIGTERM waits for them before draining). */
  private inflight = 0
  private readonly appendSettled: () => void
  /** The latest BME humidity and temperature, added to PM readings (device/humidity-ride-along.ts). */
  private readonly rideAlong = new HumidityRideAlong()
  /** While release() seals: the outbox appends of the released messages (the held file is cleared once they settle). */
  private releasing: Promise<unknown>[] | undefined

  constructor(opts: LoopOptions) {
    this.opts = opts
    this.tickFn = this.tick.bind(this)
    // Bound once: a tick attaches these to the outbox's promise instead of creating closures.
    this.appendSettled = () => {
      this.inflight--
    }
    this.appendFailed = (err: unknown) => {
      this.inflight--
      this.stats.appendErrors++
      const why = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)
      if (why !== this.lastAppendError) {
        this.lastAppendError = why
        this.opts.log.error('cannot store a sealed message in the outbox', { error: why })
      }
    }
    this.startedMs = opts.timers.nowMs()
    this.install(opts.sensors, opts.recipients)
    if (opts.heldStore !== undefined) this.recover(opts.heldStore)
  }

  /**
   * Holds again what the previous process held (held-store.ts), each at its true monotonic time on our own scale:
   * now minus its age, so release() stamps it exactly as if it had been held here.
   */
  private recover(store: HeldStore): void {
    const loaded = store.load(this.holdMax)
    const now = this.opts.timers.nowMs()
    for (const h of loaded.held) this.held.push({ claims: h.claims, atMs: now - h.ageMs })
    this.stats.held = this.held.length
    this.stats.heldDropped += loaded.dropped
    this.stats.heldLostReboot = loaded.lostReboot
    this.stats.heldUnreadable = loaded.unreadable
  }

  private install(sensors: readonly LoopSensor[], recipients: readonly LoopRecipient[]): void {
    const now = this.opts.timers.nowMs()
    this.slots = sensors.map((s) => ({
      driver: s.driver,
      intervalMs: s.intervalMs,
      out: new Readings(),
      claims: { sensor: s.driver.id, model: s.driver.model, values: {} },
      keys: [],
      dueMs: now,
      reportedHealth: 'ok' as const,
      duty:
        s.duty !== undefined && (s.duty.sleeps === false || canSleep(s.driver))
          ? new DutyCycle(s.driver, s.intervalMs, s.duty, this.opts.clock, this.opts.laser)
          : undefined,
    }))
    this.recipients = recipients
  }

  /** Starts the drivers (warm-up begins) and the schedule. */
  start(): void {
    if (this.running) return
    this.running = true
    const now = this.opts.timers.nowMs()
    for (const s of this.slots) {
      s.driver.start()
      if (s.duty !== undefined) s.dueMs = s.duty.begin(now)
      else if (LaserHours.counts(s.driver.model)) this.opts.laser?.on(s.driver.id, s.driver.model, now)
    }
    this.statusDueMs = this.opts.timers.nowMs() + this.opts.statusIntervalMs
    this.schedule(0)
  }

  /** Stops the schedule and puts the sensors to sleep; sealed messages already appended stay in the outbox. */
  stop(): void {
    if (!this.running) return
    this.running = false
    if (this.timer !== undefined) this.opts.timers.clearTimer(this.timer)
    this.timer = undefined
    this.lastTimer = undefined
    const now = this.opts.timers.nowMs()
    for (const s of this.slots) {
      s.driver.stop()
      if (s.duty !== undefined) s.duty.end(now)
      else this.opts.laser?.off(s.driver.id, now)
    }
    this.opts.laser?.save(now)
  }

  /** Appends handed to the outbox and not yet durable. */
  get pendingAppends(): number {
    return this.inflight
  }

  /** Swaps in new sensors and recipients (SIGHUP reload). The sequence number carries on. */
  replace(sensors: readonly LoopSensor[], recipients: readonly LoopRecipient[]): void {
    const wasRunning = this.running
    this.stop()
    this.install(sensors, recipients)
    if (wasRunning) this.start()
  }

  private schedule(ms: number): void {
    const timers = this.opts.timers
    // The same period as last time (a window's 1 s samples, a steady interval): the fired timer is armed again
    // rather than a new one allocated per tick (TimerClock.rearm).
    if (this.timer === undefined && this.lastTimer !== undefined && ms === this.lastTimerMs && timers.rearm !== undefined) {
      timers.rearm(this.lastTimer)
      this.timer = this.lastTimer
      return
    }
    if (this.timer !== undefined) timers.clearTimer(this.timer)
    this.timer = timers.setTimer(this.tickFn, ms)
    this.lastTimer = this.timer
    this.lastTimerMs = ms
  }

  /** One pass over the due sensors; then sleep until the next one is due. */
  tick(): void {
    this.timer = undefined
    if (!this.running) return
    if (this.stats.held > 0 && this.canSeal()) this.release()
    const now = this.opts.timers.nowMs()
    let next = Number.POSITIVE_INFINITY
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i] as Slot
      if (now >= s.dueMs) {
        if (s.duty !== undefined) s.dueMs = this.stepDuty(s, s.duty, now)
        else {
          this.sampleOne(s)
          s.dueMs = now + s.intervalMs
        }
      }
      if (s.dueMs < next) next = s.dueMs
    }
    if (this.opts.statusIntervalMs > 0) {
      if (now >= this.statusDueMs) {
        this.statusDueMs = now + this.opts.statusIntervalMs
        this.publish(this.summary())
      }
      if (this.statusDueMs < next) next = this.statusDueMs
    }
    this.opts.laser?.maybeSave(now)
    this.schedule(Math.max(0, next - now))
  }

  /** A duty-cycled sensor's step (wake, window sample, close and sleep); a closed window is one reading. */
  private stepDuty(s: Slot, duty: DutyCycle, now: number): number {
    const due = duty.step(now, this.closed)
    if (this.closed.closed) {
      this.stats.readings++
      this.rideAlong.attach(duty.claims.values, this.opts.timers.nowMs())
      this.publish(duty.claims)
    }
    this.checkHealth(s)
    return due
  }

  private sampleOne(s: Slot): void {
    s.out.clear()
    const result = s.driver.sample(s.out)
    if (result === 'fresh') {
      this.stats.readings++
      this.rideAlong.take(s.out, s.driver.model, s.intervalMs, this.opts.timers.nowMs())
      this.fill(s)
      this.publish(s.claims)
    }
    this.checkHealth(s)
  }

  private checkHealth(s: Slot): void {
    const health = s.driver.status.health
    if (health !== s.reportedHealth) {
      s.reportedHealth = health
      this.reportHealth(s.driver.status)
    }
  }

  /** Copies the driver's numbers into the claims object in place (same keys every time, so no new shapes). */
  private fill(s: Slot): void {
    const out = s.out as unknown as Record<ReadingKey, number>
    const values = s.claims.values
    let changed = false
    for (let k = 0; k < READING_KEYS.length; k++) {
      const key = READING_KEYS[k] as ReadingKey
      const has = !Number.isNaN(out[key])
      if (has !== (values[key] !== undefined)) changed = true
    }
    if (changed) {
      // First reading, or the model's field set changed (rare): rebuild the key list and the values object.
      s.keys = READING_KEYS.filter((key) => !Number.isNaN(out[key]))
      s.claims.values = {}
    }
    const v = s.claims.values
    for (let k = 0; k < s.keys.length; k++) {
      const key = s.keys[k] as ReadingKey
      v[key] = out[key]
    }
  }

  /** Whether a message can be sealed now: the clock is right and every recipient's key is known. */
  private canSeal(): boolean {
    if (!this.opts.clock.synced()) return false
    for (let r = 0; r < this.recipients.length; r++) if ((this.recipients[r] as LoopRecipient).sealer === undefined) return false
    return true
  }

  /**
   * Keeps a message that cannot be sealed yet, with the monotonic time it was taken (the wall clock may be 1970 or
   * a saved fake-hwclock time on a Pi without an RTC). Bounded: beyond holdMax the oldest is dropped and counted.
   */
  private hold(claims: object): void {
    const why = this.opts.clock.synced() ? "a recipient's key is not known yet" : 'the clock is not synchronised yet'
    if (why !== this.holdLogged) {
      this.holdLogged = why
      this.opts.log.warn(`${why}: readings are kept and sealed with their time once it is`, { holdMax: this.holdMax })
    }
    if (this.stats.held >= this.holdMax) {
      this.held.shift()
      this.stats.held--
      this.stats.heldDropped++
    }
    this.held.push({ claims: structuredClone(claims), atMs: this.opts.timers.nowMs() })
    this.stats.held++
    this.opts.heldStore?.append(claims)
  }

  /** Seals every held message, oldest first, stamped with its true time: now minus its monotonic age. */
  private release(): void {
    const wallNow = this.opts.clock.now()
    const monoNow = this.opts.timers.nowMs()
    const held = this.held
    this.held = []
    this.stats.held = 0
    this.holdLogged = ''
    this.opts.log.info('sealing the readings kept meanwhile', { count: held.length, dropped: this.stats.heldDropped })
    const store = this.opts.heldStore
    if (store !== undefined) this.releasing = []
    for (const h of held) {
      const at = wallNow - (monoNow - h.atMs)
      restampWindow(h.claims, at)
      this.seal(h.claims, at)
    }
    if (store === undefined) return
    // The file keeps them until the outbox has made every sealed copy durable (its append resolved): a crash in
    // between seals them again at the next start (duplicates, with new sequence numbers), never loses them. A
    // rejected append (disk full) is counted in appendErrors and logged, as for any message.
    const mark = store.mark()
    const appends = this.releasing ?? []
    this.releasing = undefined
    Promise.allSettled(appends).then(() => store.forget(mark))
  }

  private get holdMax(): number {
    return this.opts.holdMax ?? DEFAULT_HOLD_MAX
  }

  /** Seals one claims object to every recipient under one sequence number and appends each copy to the outbox. */
  private publish(claims: object): void {
    // A Pi has no RTC: until the clock is known to be right, a reading's time would be 1970 or the last saved
    // fake-hwclock time, and receivers reject it as expired (or, worse, accept a wrong time). Such readings, and
    // those taken while a recipient's key is unknown, are held with their monotonic time and sealed later.
    if (!this.opts.clock.synced()) this.stats.unsynced++
    if (!this.canSeal()) {
      this.hold(claims)
      return
    }
    if (this.stats.held > 0) this.release()
    this.seal(claims, this.opts.clock.now())
  }

  private seal(claims: object, atMs: number): void {
    const seq = this.opts.sequence.next()
    const ctx = this.ctx
    ctx.seq = seq
    ctx.now = atMs
    for (let r = 0; r < this.recipients.length; r++) {
      const rec = this.recipients[r] as LoopRecipient
      try {
        const sealed = (rec.sealer as ReadingSealer).seal(claims, ctx)
        const res = this.opts.outbox.append(rec.name, sealed)
        this.stats.sealed++
        if (res instanceof Promise) {
          this.inflight++
          res.then(this.appendSettled, this.appendFailed)
          if (this.releasing !== undefined) this.releasing.push(res)
        }
      } catch (err) {
        this.stats.sealErrors++
        const why = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)
        // Logged once per distinct error, not per tick (journald rate limits; STYLE).
        if (why !== this.lastSealError) {
          this.lastSealError = why
          this.opts.log.error('cannot seal or queue a message', { recipient: rec.name, seq, error: why })
        }
      }
    }
  }

  private reportHealth(st: SensorStatus): void {
    this.stats.statusMessages++
    const msg = healthChange(st, this.opts.timers.nowMs())
    const level = st.health === 'ok' ? 'info' : st.health === 'degraded' ? 'warn' : 'error'
    this.opts.log[level](`sensor ${st.id} is ${st.health}`, msg.status)
    this.publish(msg)
  }

  /** A periodic status message: every sensor's health and counters. */
  summary(): object {
    this.stats.statusMessages++
    return summaryStatus(
      this.opts.timers.nowMs() - this.startedMs,
      this.stats.readings,
      this.slots.map((s) => s.driver.status),
      {
        ...(this.opts.version === undefined ? {} : { version: this.opts.version }),
        ...(this.opts.outboxDepth === undefined ? {} : { outbox: this.opts.outboxDepth() }),
        held: this.stats.held,
        heldDropped: this.stats.heldDropped,
        heldLostReboot: this.stats.heldLostReboot,
        ...(this.opts.laser === undefined ? {} : { lasers: this.opts.laser.report(this.opts.timers.nowMs()) }),
      },
    )
  }
}
