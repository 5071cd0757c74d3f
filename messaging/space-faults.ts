/** Full-disk bookkeeping for the sender's write paths: ENOSPC/EDQUOT counted, logged once per streak, never per reading. */
import type { Logger } from '../src/log.js'

const SPACE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT'])

/** True for "no space left" / "quota exceeded", also when wrapped (a DaneelError's `cause`). */
export function isSpaceError(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && SPACE_CODES.has(code)) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

/**
 * One streak per write path: the first failure logs one error line, later ones only count, and the first success
 * after them logs one line with the count. A node on a full SD card writes two lines, not one per reading.
 */
export class SpaceFaults {
  readonly #log: Logger
  readonly #what: string
  /** Failures in the current streak (0: none). */
  streak = 0
  /** Failures ever (a counter for stats). */
  total = 0

  constructor(log: Logger, what: string) {
    this.#log = log
    this.#what = what
  }

  get failing(): boolean {
    return this.streak > 0
  }

  fault(err: unknown, detail: Record<string, unknown> = {}): void {
    this.total++
    if (this.streak++ === 0) {
      const code = (err as { code?: string }).code ?? ''
      this.#log.error(`disk full: cannot write the ${this.#what}; holding on in memory and retrying`, {
        error: code === '' || code === 'ERR_IO' ? String((err as Error).message ?? err) : code,
        ...detail,
      })
    }
  }

  ok(detail: Record<string, unknown> = {}): void {
    if (this.streak === 0) return
    this.#log.info(`the ${this.#what} is written again`, { failedWrites: this.streak, ...detail })
    this.streak = 0
  }
}
