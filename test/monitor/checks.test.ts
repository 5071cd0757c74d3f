/** Monitor verdicts on recorded observations (openssl-made certificates, the real matcher), and the alert state machine. */

import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { makeTlsaRecord } from '../../src/dane/tlsa.js'
import { evaluateIdentity, evaluateService, type TlsaObservation } from '../../src/monitor/checks.js'
import { createChainMatcher } from '../../src/monitor/matcher.js'
import { buildAlert, formatTable, toJson } from '../../src/monitor/report.js'
import { type CheckResult, diffState, exitCodeOf, loadState, overallLevel, saveState } from '../../src/monitor/state.js'
import { issueServiceCerts, type TestCert } from '../../testkit/https-ca.js'
import { makeTempDir } from '../../testkit/paths.js'

const DAY = 86_400_000
const now = Date.now()
const match = createChainMatcher(() => now)
const opts = { now, warnDays: 14, match }
const secure = (...records: TlsaObservation['records']): TlsaObservation => ({ status: 'secure', reason: 'recorded', records })

describe('service and identity verdicts', () => {
  const tmp = makeTempDir('daneel-mon-checks-')
  let cur: TestCert
  let next: TestCert
  let other: TestCert
  let soon: TestCert
  before(() => {
    ;({ cur, next, other, soon } = issueServiceCerts(tmp.dir, 'mx.example.test', now))
  })
  after(() => tmp.cleanup())
  const svc = (tlsa: TlsaObservation | Error, chain: Uint8Array[] | Error, leafNotAfter?: number) =>
    evaluateService(
      {
        kind: 'smtp',
        target: 'mx.example.test:25',
        host: 'mx.example.test',
        tlsaName: '_25._tcp.mx.example.test',
        tlsa,
        chain,
        ...(leafNotAfter === undefined ? {} : { leafNotAfter }),
      },
      opts,
    )
  const r311 = (c: TestCert) => makeTlsaRecord(c.certDer, 3, 1, 1)

  test('healthy, no match, rollover, stale, expiring, bogus, insecure, unusable', () => {
    const far = now + 30 * DAY
    assert.equal(svc(secure(r311(cur)), [cur.certDer], far).level, 'ok')
    const miss = svc(secure(r311(other)), [cur.certDer], far)
    assert.equal(miss.level, 'failure')
    assert.equal(miss.data.match, false)
    const roll = svc(secure(r311(cur), r311(next)), [cur.certDer], far)
    assert.equal(roll.level, 'ok')
    assert.match(roll.summary, /rollover in progress/)
    const stale = svc(secure(r311(cur), r311(next), r311(other)), [cur.certDer], far)
    assert.equal(stale.level, 'warning')
    assert.match(stale.summary, /stale records: 3 TLSA records published, 1 match/)
    const exp = svc(secure(r311(soon)), [soon.certDer], now + 3 * DAY)
    assert.equal(exp.level, 'warning')
    assert.match(exp.summary, /expires in 2 day|expires in 3 day/)
    const bogus = svc({ status: 'bogus', reason: 'RRSIG expired', records: [r311(cur)] }, [cur.certDer], far)
    assert.equal(bogus.level, 'failure')
    assert.match(bogus.summary, /DNSSEC bogus/)
    assert.equal(svc({ status: 'insecure', reason: 'no DS', records: [r311(cur)] }, [cur.certDer], far).level, 'warning')
    assert.equal(svc(secure(makeTlsaRecord(cur.certDer, 1, 1, 1)), [cur.certDer], far).level, 'failure')
    assert.equal(svc(secure(r311(cur)), new Error('connection refused')).level, 'failure')
    assert.equal(svc(new Error('timeout'), [cur.certDer]).level, 'failure')
  })

  test('identity: key mismatch, unpublished, different, matching, PKIX-CD outcome', () => {
    const local = { certDer: cur.certDer, notAfter: now + 30 * DAY, keyMatches: true }
    const id = (tlsa: TlsaObservation, extra: Record<string, unknown> = {}) =>
      evaluateIdentity({ name: 'd._device.example.test', tlsa, local, noDnssec: false, ...extra }, opts)
    assert.equal(id(secure(makeTlsaRecord(cur.certDer, 3, 1, 0))).level, 'ok')
    assert.equal(id(secure()).level, 'failure')
    assert.match(id(secure()).summary, /no TLSA records/)
    assert.equal(id(secure(makeTlsaRecord(other.certDer, 3, 1, 0))).data.match, false)
    assert.equal(id(secure(makeTlsaRecord(cur.certDer, 3, 0, 0)), { local: { ...local, keyMatches: false } }).level, 'failure')
    const ins: TlsaObservation = { status: 'insecure', reason: 'no DS', records: [makeTlsaRecord(cur.certDer, 4, 0, 0)] }
    assert.equal(id(ins, { pkixCd: new Error('HTTP status 404') }).level, 'failure')
    assert.equal(id(ins, { pkixCd: true }).level, 'ok')
  })
})

describe('alert state: once per change', () => {
  const r = (id: string, level: CheckResult['level']): CheckResult => ({
    id,
    kind: 'tls',
    target: id,
    level,
    summary: `${id} is ${level}`,
    details: [],
    data: {},
  })

  test('first healthy run is silent, a change alerts once, a return to healthy alerts once', () => {
    let state = loadState('/nonexistent/daneel/monitor-state.json')
    const step = (results: CheckResult[], t: number) => {
      const d = diffState(state, results, t)
      state = d.next
      return d.changes
    }
    assert.equal(step([r('a', 'ok')], 1).length, 0)
    assert.deepEqual(
      step([r('a', 'failure')], 2).map((c) => [c.from, c.to]),
      [['ok', 'failure']],
    )
    assert.equal(step([r('a', 'failure')], 3).length, 0)
    assert.equal(state.checks.a?.since, 2)
    assert.equal(step([r('a', 'warning'), r('b', 'ok')], 4).length, 1)
    assert.equal(step([r('a', 'ok'), r('b', 'ok')], 5).length, 1)
    // another invocation checking only c keeps a and b as they were
    assert.equal(step([r('c', 'failure')], 6).length, 1)
    assert.equal(state.checks.a?.level, 'ok')
    assert.equal(step([r('a', 'ok'), r('b', 'ok')], 7).length, 0)
    assert.equal(state.checks.c?.level, 'failure')
    assert.equal(overallLevel([r('a', 'ok'), r('b', 'warning')]), 'warning')
    assert.deepEqual(
      ['ok', 'warning', 'failure'].map((l) => exitCodeOf(l as CheckResult['level'])),
      [0, 1, 1],
    )
  })

  test('the state file round-trips and a corrupt one is treated as empty', () => {
    const tmp = makeTempDir('daneel-mon-state-')
    try {
      const p = join(tmp.dir, 'sub', 'monitor-state.json')
      mkdirSync(join(tmp.dir, 'sub'))
      saveState(p, diffState({ version: 1, checks: {} }, [r('x', 'warning')], 7).next)
      assert.equal(loadState(p).checks.x?.level, 'warning')
      writeFileSync(p, '{"version":1,"checks":')
      assert.deepEqual(loadState(p), { version: 1, checks: {} })
    } finally {
      tmp.cleanup()
    }
  })

  test('reports: table, JSON, alert text', () => {
    const failed = r('tls:a:443', 'failure')
    failed.details.push('published: 3 1 1 abcd')
    const res = [failed]
    assert.match(formatTable(res, true), /FAIL\s+tls\s+tls:a:443\s+tls:a:443 is failure\n\s+- published: 3 1 1 abcd\noverall: failure/)
    assert.equal(JSON.parse(toJson(res, 0)).overall, 'failure')
    const a = buildAlert(res, [{ id: 'tls:a:443', from: 'ok', to: 'failure', summary: 'x' }], 0, 'host1')
    assert.match(a.text, /^daneel monitor on host1: failure\ntls:a:443: ok -> failure: x\n {2}published/)
    assert.equal(a.json.changes.length, 1)
  })
})
