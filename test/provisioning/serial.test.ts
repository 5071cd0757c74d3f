/** Serial provisioning end to end through a socat pty pair: JSON-lines driver, SIGKILL during every step then a rerun that finishes. */

import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { readStatus } from '../../provisioning/state.js'
import { type DnsLab, startDnsLab } from '../../testkit/dns-lab.js'
import { selfSignedP256Args } from '../../testkit/openssl.js'
import { cliPath, makeTempDir } from '../../testkit/paths.js'
import { HostLine, type PtyPair, startPtyPair, writeAndSeeRead } from './pty-line.js'

const ZONE = 'example.test.'
const PASSWORD = 'hunter2-not-for-the-line'
const STEPS = ['set', 'create', 'csr', 'install', 'tlsa', 'check', 'finish'] as const
type Step = (typeof STEPS)[number]

let tmp: { dir: string; cleanup: () => void }
let pty: PtyPair
let line: HostLine
let lab: DnsLab
const children = new Set<ChildProcess>()

before(async () => {
  tmp = makeTempDir('daneel-provision-')
  pty = await startPtyPair(tmp.dir)
  line = new HostLine(pty.host)
  lab = await startDnsLab()
  // A test CA (openssl) that signs the devices' CSRs, as the operator's CA would.
  const ca = join(tmp.dir, 'ca')
  mkdirSync(ca)
  openssl(
    selfSignedP256Args({
      key: join(ca, 'ca.key'),
      cert: join(ca, 'ca.crt'),
      days: 30,
      subject: '/CN=daneel test CA',
      ext: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign'],
    }),
  )
})

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  line?.close()
  await pty?.stop()
  await lab?.stop()
  tmp?.cleanup()
})

function openssl(args: string[], input?: string): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8', input })
  if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`)
  return r.stdout
}

/** The operator's CA signs a CSR for `name` (DANE-EE leaf: SAN = the identity name). */
function signCsr(csrPem: string, name: string): string {
  const ca = join(tmp.dir, 'ca')
  const csr = join(ca, `${name}.csr`)
  const ext = join(ca, `${name}.ext`)
  writeFileSync(csr, csrPem)
  writeFileSync(
    ext,
    `subjectAltName=DNS:${name}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n`,
  )
  return openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(ca, 'ca.crt'),
    '-CAkey',
    join(ca, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '30',
    '-extfile',
    ext,
  ])
}

interface Scenario {
  name: string
  crypto: string
  keyType: 'p256' | 'rsa2048'
}

function startProvisioner(s: Scenario): { child: ChildProcess; exit: Promise<number | string>; stderr: () => string } {
  const child = spawn(process.execPath, [cliPath, 'provision', '--serial', pty.device, '--crypto-path', s.crypto], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, DANE_ID: '', CRYPTO_PATH: '' },
  })
  children.add(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exit = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')))
  void exit.then(() => {
    children.delete(child)
    if (stderr.trim() !== '') console.log(`# provisioner stderr: ${stderr.trim()}`)
  })
  return { child, exit, stderr: () => stderr }
}

/**
 * Starts the provisioner and waits for its banner; fails fast (with its stderr) if it dies first. A load failure
 * ("not available in this build") is retried twice, a second apart: build/ is shared with concurrent `tsc` runs
 * while developing, which can catch a module mid-write; a real load failure persists and still fails the test.
 */
async function startWithBanner(s: Scenario): Promise<{ child: ChildProcess; exit: Promise<number | string> }> {
  for (let attempt = 1; ; attempt++) {
    const from = line.transcript.length
    const { child, exit, stderr } = startProvisioner(s)
    const early = exit.then((code) => {
      throw new Error(`provisioner exited (${code}) before its banner: ${stderr()}`)
    })
    try {
      await Promise.race([line.waitFor(/daneel provisioning \(/, from), early])
      early.catch(() => undefined)
      return { child, exit }
    } catch (err) {
      if (attempt >= 3 || !/not available in this build/.test(String(err))) throw err
      await new Promise((r) => setTimeout(r, 1000))
    }
  }
}

/** What the last killed provisioner had done with the request fired at it. */
let lastKill = ''

/**
 * Drives provisioning from wherever it stands to the end. With `killAt`, the request of that step is written, and
 * once the provisioner has read it (seen in /proc, not guessed from time: on a loaded machine it may not run for a
 * while) it is SIGKILLed `delayMs` later, whatever it is doing. Whatever it left unread stays in the pty (the pair
 * is held open between runs) and would be the rerun's first request; it is taken off the line, as the operator's
 * end of a real line would not resend it.
 */
async function drive(s: Scenario, killAt?: { step: Step; delayMs: number }): Promise<'killed' | number | string> {
  const { child, exit } = await startWithBanner(s)
  const send = async (step: Step, req: Record<string, unknown>): Promise<Record<string, unknown> | undefined> => {
    if (killAt?.step === step) {
      const read = await writeAndSeeRead(child.pid as number, () => line.fire(req))
      await new Promise((r) => setTimeout(r, killAt.delayMs))
      child.kill('SIGKILL')
      await exit
      const unread = await pty.takeUnread((t) => line.send(t))
      lastKill = `request ${read ? 'read' : 'not seen read'}${unread === '' ? '' : `, ${unread.length} bytes left unread`}`
      return undefined
    }
    const reply = await line.request(req)
    assert.equal(reply.ok, true, `${step}: ${JSON.stringify(reply)}`)
    return reply
  }
  for (let guard = 0; guard < 12; guard++) {
    const status = (await line.request({ op: 'status' })).result as { next: string }
    let r: Record<string, unknown> | undefined
    switch (status.next) {
      case 'set':
        r = await send('set', {
          op: 'set',
          values: {
            DANE_ID: s.name,
            MQTT_URL: `mqtts://node:${PASSWORD}@broker.example.test:8883`,
            TRUSTED_DOMAINS: 'example.test',
            DNS_SERVER: lab.server,
            DNSSEC_TRUST_ANCHORS: lab.trustAnchorsFile,
          },
        })
        break
      case 'create':
        r = await send('create', { op: 'create', keyType: s.keyType, csr: true })
        break
      case 'install': {
        const csr = await send('csr', { op: 'csr' })
        if (csr === undefined) return 'killed'
        r = await send('install', { op: 'install', pem: signCsr((csr.result as { csr: string }).csr, s.name) })
        break
      }
      case 'check': {
        const t = await send('tlsa', { op: 'tlsa' })
        if (t === undefined) return 'killed'
        const zoneLine = (t.result as { tlsa: string[] }).tlsa[0] ?? ''
        assert.match(zoneLine, new RegExp(`^${s.name.replaceAll('.', '\\.')}\\. 300 IN TLSA 3 0 0 [0-9A-F]+$`))
        await lab.setRecords(ZONE, `${s.name}.`, 'TLSA', [zoneLine.split(' IN TLSA ')[1] ?? ''])
        r = await send('check', { op: 'check' })
        break
      }
      case 'finish':
      case 'done': // a kill during finish may land after the link was written: finish then just says so
        r = await send('finish', { op: 'finish' })
        if (r !== undefined) return exit
        break
      default:
        throw new Error(`unexpected next step ${status.next}`)
    }
    if (r === undefined) return 'killed'
  }
  throw new Error('provisioning did not converge')
}

/** Whatever a SIGKILL interrupted, every file present is whole and the state reads. */
function assertConsistent(s: Scenario): void {
  const st = readStatus(s.crypto)
  const paths = {
    key: join(s.crypto, `${s.name}.key.pem`),
    crt: join(s.crypto, `${s.name}.crt.pem`),
    csr: join(s.crypto, `${s.name}.csr.pem`),
  }
  if (existsSync(paths.key)) {
    assert.equal(statSync(paths.key).mode & 0o777, 0o600)
    createPrivateKey(readFileSync(paths.key))
  }
  if (existsSync(paths.csr)) openssl(['req', '-in', paths.csr, '-noout', '-verify'])
  if (existsSync(paths.crt))
    assert.ok(new X509Certificate(readFileSync(paths.crt)).checkPrivateKey(createPrivateKey(readFileSync(paths.key))))
  if (st.finished) assert.equal(st.identity, 'certificate')
  for (const f of readdirSync(s.crypto))
    if (!f.endsWith('.tmp'))
      assert.ok(lstatSync(join(s.crypto, f)).size > 0 || lstatSync(join(s.crypto, f)).isSymbolicLink(), `${f} is empty`)
}

test('provisioning over a serial line: SIGKILL during each step, then a rerun finishes', async () => {
  for (const [k, step] of STEPS.entries()) {
    const s: Scenario = {
      name: `node${k}.airquality._device.example.test`,
      crypto: join(tmp.dir, `crypto${k}`),
      keyType: k % 2 === 0 ? 'p256' : 'rsa2048',
    }
    const killed = await drive(s, { step, delayMs: [0, 3, 10][k % 3] as number })
    assert.equal(killed, 'killed', `scenario ${k} (${step})`)
    assertConsistent(s)
    const before = readStatus(s.crypto)
    console.log(`# killed during ${step} (${s.keyType}, ${lastKill}): on disk identity=${before.identity}, next=${before.next}`)
    const code = await drive(s)
    assert.equal(code, 0, `rerun after a kill during ${step}`)
    assertConsistent(s)
    const after = readStatus(s.crypto)
    assert.equal(after.finished, true)
    assert.equal(after.dnsChecked, true)
    assert.equal(readFileSync(join(s.crypto, 'daneel.env'), 'utf8').includes(`DANE_ID="${s.name}"`), true)
    const cert = new X509Certificate(readFileSync(join(s.crypto, `${s.name}.crt.pem`)))
    assert.match(cert.issuer, /daneel test CA/)
    assert.equal(cert.checkHost(s.name), s.name)
  }
  // Nothing secret ever crossed the line: not the broker password, not a line of any private key.
  assert.ok(!line.transcript.includes(PASSWORD), 'the MQTT password was echoed')
  assert.ok(line.transcript.includes('mqtts://***@broker.example.test:8883'))
  for (const [k] of STEPS.entries()) {
    const key = readFileSync(join(tmp.dir, `crypto${k}`, `node${k}.airquality._device.example.test.key.pem`), 'utf8')
    for (const l of key.split('\n').filter((x) => x.length > 20 && !x.startsWith('-----')))
      assert.ok(!line.transcript.includes(l), 'a private key line crossed the line')
  }
})
