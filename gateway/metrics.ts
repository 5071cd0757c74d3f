/** A small Prometheus registry: counters, gauges (optionally labelled) and fixed-bucket histograms in the text format 0.0.4. */

/**
 * Exposition rules (https://prometheus.io/docs/instrumenting/exposition_formats/, text format 0.0.4):
 * - `# HELP name text` (backslash and newline escaped) and `# TYPE name counter|gauge|histogram` before samples;
 * - a sample is `name{label="value",...} number`; label values escape backslash, double quote and newline;
 * - a histogram has cumulative `name_bucket{le="..."}` samples ending with `le="+Inf"`, then `name_sum`, `name_count`;
 * - numbers are Go-style floats: `+Inf`, `-Inf`, `NaN` spelled so.
 */
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
const escapeLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
export const formatNumber = (n: number): string =>
  Number.isNaN(n) ? 'NaN' : n === Infinity ? '+Inf' : n === -Infinity ? '-Inf' : String(n)

interface Metric {
  readonly name: string
  render(out: string[]): void
}

function header(out: string[], name: string, help: string, type: string): void {
  out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`)
}

/** A value per label set (the empty label set for an unlabelled metric). */
class Series {
  readonly #label: string | undefined
  readonly values = new Map<string, number>()
  constructor(label: string | undefined) {
    if (label !== undefined && !LABEL.test(label)) throw new RangeError(`bad label name ${JSON.stringify(label)}`)
    this.#label = label
  }
  /** Samples to print: an unlabelled metric always has one (0 before its first change). */
  samples(name: string, out: string[]): void {
    if (this.#label === undefined && this.values.size === 0) out.push(`${name} 0`)
    for (const [k, v] of this.values) out.push(`${name}${k} ${formatNumber(v)}`)
  }
  key(value: string | undefined): string {
    if (this.#label === undefined) return ''
    if (value === undefined) throw new RangeError(`metric needs a ${this.#label} label`)
    return `{${this.#label}="${escapeLabel(value)}"}`
  }
}

/** A counter or a gauge: one number per label value, printed under its type. */
abstract class SeriesMetric implements Metric {
  readonly name: string
  readonly #help: string
  readonly #type: 'counter' | 'gauge'
  protected readonly series: Series
  constructor(type: 'counter' | 'gauge', name: string, help: string, label?: string) {
    this.name = name
    this.#help = help
    this.#type = type
    this.series = new Series(label)
  }
  get(labelValue?: string): number {
    return this.series.values.get(this.series.key(labelValue)) ?? 0
  }
  render(out: string[]): void {
    header(out, this.name, this.#help, this.#type)
    this.series.samples(this.name, out)
  }
}

export class Counter extends SeriesMetric {
  constructor(name: string, help: string, label?: string) {
    super('counter', name, help, label)
  }
  inc(by = 1, labelValue?: string): void {
    if (!(by >= 0)) throw new RangeError('a counter only goes up')
    const k = this.series.key(labelValue)
    this.series.values.set(k, (this.series.values.get(k) ?? 0) + by)
  }
}

export class Gauge extends SeriesMetric {
  constructor(name: string, help: string, label?: string) {
    super('gauge', name, help, label)
  }
  set(value: number, labelValue?: string): void {
    this.series.values.set(this.series.key(labelValue), value)
  }
}

export class Histogram implements Metric {
  readonly name: string
  readonly #help: string
  readonly buckets: readonly number[]
  readonly #counts: number[]
  #sum = 0
  #count = 0
  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name
    this.#help = help
    for (let i = 1; i < buckets.length; i++)
      if (!((buckets[i] as number) > (buckets[i - 1] as number))) throw new RangeError('histogram buckets must increase')
    this.buckets = buckets.filter((b) => b !== Infinity)
    this.#counts = new Array<number>(this.buckets.length).fill(0)
  }
  observe(value: number): void {
    this.#sum += value
    this.#count++
    for (let i = 0; i < this.buckets.length; i++)
      if (value <= (this.buckets[i] as number)) this.#counts[i] = (this.#counts[i] as number) + 1
  }
  get count(): number {
    return this.#count
  }
  get sum(): number {
    return this.#sum
  }
  /** The upper bound of the bucket holding quantile `q` (0..1): what a Prometheus histogram can say about it. */
  quantileBound(q: number): number {
    const want = q * this.#count
    for (let i = 0; i < this.buckets.length; i++) if ((this.#counts[i] as number) >= want) return this.buckets[i] as number
    return Infinity
  }
  render(out: string[]): void {
    header(out, this.name, this.#help, 'histogram')
    this.buckets.forEach((b, i) => {
      out.push(`${this.name}_bucket{le="${formatNumber(b)}"} ${this.#counts[i]}`)
    })
    out.push(
      `${this.name}_bucket{le="+Inf"} ${this.#count}`,
      `${this.name}_sum ${formatNumber(this.#sum)}`,
      `${this.name}_count ${this.#count}`,
    )
  }
}

export class Registry {
  readonly #metrics = new Map<string, Metric>()
  #add<M extends Metric>(m: M): M {
    if (!NAME.test(m.name)) throw new RangeError(`bad metric name ${JSON.stringify(m.name)}`)
    if (this.#metrics.has(m.name)) throw new RangeError(`metric ${m.name} registered twice`)
    this.#metrics.set(m.name, m)
    return m
  }
  counter(name: string, help: string, label?: string): Counter {
    return this.#add(new Counter(name, help, label))
  }
  gauge(name: string, help: string, label?: string): Gauge {
    return this.#add(new Gauge(name, help, label))
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets))
  }
  /** The text exposition, for `GET /metrics` with `Content-Type: text/plain; version=0.0.4`. */
  render(): string {
    const out: string[] = []
    for (const m of this.#metrics.values()) m.render(out)
    return `${out.join('\n')}\n`
  }
}

/** Commit latency buckets, seconds: an fsync is 0.1-10 ms on flash and SSDs, a stalled disk far more. */
export const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const

/** Receive → commit buckets, seconds: a batch waits up to its delay (5 ms) plus a commit; a backlog far more. */
export const RECEIVE_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const

/** The gateway's metrics, under the names dashboards and alerts rely on. */
export function gatewayMetrics(registry: Registry = new Registry()) {
  return {
    registry,
    stored: registry.counter('daneel_readings_stored_total', 'Messages stored (readings and status), each once.'),
    duplicates: registry.counter('daneel_readings_duplicate_total', 'Redelivered or replayed messages found already stored.'),
    rejected: registry.counter('daneel_messages_rejected_total', 'Messages refused before the store, by error code.', 'code'),
    lastSeen: registry.gauge('daneel_node_last_seen_seconds', 'When each node was last heard from, seconds since the epoch.', 'node'),
    queueDepth: registry.gauge('daneel_ingest_queue_depth', 'Verified messages waiting for their commit.'),
    commitErrors: registry.counter(
      'daneel_store_commit_errors_total',
      'Failed store commits (retried; their messages stay unacknowledged).',
    ),
    commitSeconds: registry.histogram('daneel_commit_seconds', 'Duration of one store commit (one batch), seconds.', COMMIT_BUCKETS),
    receiveToCommit: registry.histogram(
      'daneel_receive_to_commit_seconds',
      'From a message arriving from the broker to the commit of its batch, seconds.',
      RECEIVE_BUCKETS,
    ),
  }
}
export type GatewayMetrics = ReturnType<typeof gatewayMetrics>
