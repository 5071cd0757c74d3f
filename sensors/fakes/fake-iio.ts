/** A fake Iio: attribute texts (or errors) in a map, as the kernel would print them. */
import type { Iio } from '../hal.js'

export class FakeIio implements Iio {
  readonly name: string
  /** attr → text, or an Error to reject with (e.g. an EIO errno error). */
  readonly attrs = new Map<string, string | Error>()
  reads = 0

  constructor(name: string, attrs: Record<string, string | Error> = {}) {
    this.name = name
    for (const [k, v] of Object.entries(attrs)) this.attrs.set(k, v)
  }

  async readAttr(attr: string): Promise<string> {
    this.reads++
    const v = this.attrs.get(attr)
    if (v === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${attr}'`), { code: 'ENOENT' })
    if (v instanceof Error) throw v
    return v
  }
}
