/** The Prometheus registry's text output, checked line by line against the exposition format 0.0.4 grammar. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { gatewayMetrics, Registry } from '../../gateway/metrics.js'

// From https://prometheus.io/docs/instrumenting/exposition_formats/ (text format 0.0.4).
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"'
const LABELS = `\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE})(?:,[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE})*\\}`
const VALUE = '(?:[+-]?(?:\\d+\\.?\\d*(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?)|[+-]Inf|NaN)'
const SAMPLE = new RegExp(`^(${NAME})(${LABELS})? (${VALUE})$`)
const HELP = new RegExp(`^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`)
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`)

interface Family {
  help: string
  type: string
  samples: { name: string; labels: Map<string, string>; value: number }[]
}

const unescapeText = (s: string): string => s.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c))

/** Parses the exposition strictly: every line is HELP, TYPE or a sample of the family just declared. */
function parse(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'ends with a newline')
  const families = new Map<string, Family>()
  let cur: { name: string; f: Family } | undefined
  for (const line of text.slice(0, -1).split('\n')) {
    const h = HELP.exec(line)
    if (h !== null) {
      assert.ok(!families.has(h[1] as string), `family ${h[1]} declared once`)
      cur = { name: h[1] as string, f: { help: unescapeText(h[2] as string), type: '', samples: [] } }
      families.set(cur.name, cur.f)
      continue
    }
    const t = TYPE.exec(line)
    if (t !== null) {
      assert.equal(t[1], cur?.name, 'TYPE follows its HELP')
      assert.equal(cur?.f.samples.length, 0, 'TYPE comes before the samples')
      ;(cur as { f: Family }).f.type = t[2] as string
      continue
    }
    const s = SAMPLE.exec(line)
    assert.ok(s !== null, `not a valid exposition line: ${JSON.stringify(line)}`)
    assert.ok(cur !== undefined && cur.f.type !== '', 'a sample follows HELP and TYPE')
    const name = s[1] as string
    const allowed = cur.f.type === 'histogram' ? [`${cur.name}_bucket`, `${cur.name}_sum`, `${cur.name}_count`] : [cur.name]
    assert.ok(allowed.includes(name), `${name} belongs to family ${cur.name}`)
    const labels = new Map<string, string>()
    for (const m of (s[2] ?? '').matchAll(new RegExp(`([a-zA-Z_][a-zA-Z0-9_]*)=(${LABEL_VALUE})`, 'g')))
      labels.set(m[1] as string, unescapeText((m[2] as string).slice(1, -1)))
    const v = s[3] as string
    cur.f.samples.push({ name, labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) })
  }
  return families
}

describe('prometheus registry', () => {
  it('renders the gateway metrics in the text format, HELP and TYPE for each, daneel_ names', () => {
    const m = gatewayMetrics()
    m.stored.inc(41)
    m.stored.inc()
    m.duplicates.inc(3)
    m.rejected.inc(1, 'ERR_JWS_SIGNATURE')
    m.rejected.inc(2, 'ERR_REPLAY')
    m.lastSeen.set(1767268800, 'c90a0d441683.aq._device.example.com')
    m.queueDepth.set(17)
    for (const s of [0.0004, 0.003, 0.003, 0.02, 7]) m.commitSeconds.observe(s)
    const fam = parse(m.registry.render())
    assert.deepEqual([...fam.keys()].sort(), [
      'daneel_commit_seconds',
      'daneel_ingest_queue_depth',
      'daneel_messages_rejected_total',
      'daneel_node_last_seen_seconds',
      'daneel_readings_duplicate_total',
      'daneel_readings_stored_total',
      'daneel_receive_to_commit_seconds',
      'daneel_store_commit_errors_total',
    ])
    const one = (name: string) => fam.get(name)?.samples.map((s) => [Object.fromEntries(s.labels), s.value])
    assert.equal(fam.get('daneel_readings_stored_total')?.type, 'counter')
    assert.deepEqual(one('daneel_readings_stored_total'), [[{}, 42]])
    assert.deepEqual(one('daneel_store_commit_errors_total'), [[{}, 0]], 'an unlabelled counter shows 0 before its first change')
    assert.deepEqual(one('daneel_messages_rejected_total'), [
      [{ code: 'ERR_JWS_SIGNATURE' }, 1],
      [{ code: 'ERR_REPLAY' }, 2],
    ])
    assert.equal(fam.get('daneel_node_last_seen_seconds')?.type, 'gauge')
    assert.deepEqual(one('daneel_node_last_seen_seconds'), [[{ node: 'c90a0d441683.aq._device.example.com' }, 1767268800]])
    assert.deepEqual(one('daneel_ingest_queue_depth'), [[{}, 17]])

    const h = fam.get('daneel_commit_seconds') as Family
    assert.equal(h.type, 'histogram')
    const buckets = h.samples.filter((s) => s.name.endsWith('_bucket'))
    const les = buckets.map((s) => s.labels.get('le'))
    assert.equal(les.at(-1), '+Inf')
    const bounds = les.map((l) => (l === '+Inf' ? Infinity : Number(l)))
    for (let i = 1; i < buckets.length; i++) {
      assert.ok((bounds[i] as number) > (bounds[i - 1] as number), 'le increases')
      assert.ok((buckets[i]?.value as number) >= (buckets[i - 1]?.value as number), 'buckets are cumulative')
    }
    const at = (le: number) => buckets[bounds.indexOf(le)]?.value
    assert.equal(at(0.0005), 1)
    assert.equal(at(0.0025), 1)
    assert.equal(at(0.005), 3)
    assert.equal(at(0.025), 4)
    assert.equal(at(5), 4)
    assert.equal(at(Infinity), 5)
    assert.deepEqual(
      h.samples.filter((s) => !s.name.endsWith('_bucket')).map((s) => [s.name, s.value]),
      [
        ['daneel_commit_seconds_sum', 0.0004 + 0.003 + 0.003 + 0.02 + 7],
        ['daneel_commit_seconds_count', 5],
      ],
    )
    assert.equal(m.commitSeconds.quantileBound(0.5), 0.005)
    assert.equal(m.commitSeconds.quantileBound(0.99), Infinity)
  })

  it('escapes label values and help text so any node name round-trips', () => {
    const r = new Registry()
    const g = r.gauge('x_seconds', 'a help with \\ and\nnewline', 'node')
    const odd = 'we"ird\\name\nx'
    g.set(1, odd)
    g.set(Number.NaN, 'nan')
    g.set(-Infinity, 'neg')
    const f = parse(r.render()).get('x_seconds') as Family
    assert.equal(f.help, 'a help with \\ and\nnewline')
    assert.deepEqual(
      f.samples.map((s) => [s.labels.get('node'), s.value]),
      [
        [odd, 1],
        ['nan', Number.NaN],
        ['neg', -Infinity],
      ],
    )
  })

  it('refuses misuse: bad names, a name twice, a counter going down, a missing label, unordered buckets', () => {
    const r = new Registry()
    r.counter('ok_total', 'fine')
    assert.throws(() => r.counter('ok_total', 'again'), RangeError)
    assert.throws(() => r.gauge('bad-name', 'x'), RangeError)
    assert.throws(() => r.counter('c_total', 'x', 'bad-label'), RangeError)
    assert.throws(() => r.histogram('h', 'x', [1, 0.5]), RangeError)
    const c = r.counter('d_total', 'x', 'code')
    assert.throws(() => c.inc(-1, 'E'), RangeError)
    assert.throws(() => c.inc(1), RangeError)
    // the grammar itself rejects a broken line, so the checks above cannot pass on garbage
    assert.throws(() => parse('# HELP a x\n# TYPE a counter\na{b="c} 1\n'))
    assert.throws(() => parse('a 1\n'))
  })
})
