/** `daneel demo`: interim version — a throw-away P-256 identity in a temp dir and its TLSA 3 1 1 record (RFC 6698 §2.1). */
import { spawnSync } from 'node:child_process'
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DaneelError } from '../../src/errors.js'
import { parseCommand } from '../args.js'

export const summary = 'everything on loopback: embedded broker, DNS, two simulated nodes, a receiver'

const HELP = `Usage: daneel demo [--json]

Creates a throw-away P-256 key and self-signed certificate in a temporary directory,
prints the DANE-EE TLSA record (3 1 1) binding it, removes the directory and exits 0.

  --json   print the record as one JSON object`

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, { json: { type: 'boolean' } }, HELP)
  if (parsed === undefined) return 0
  const name = 'demo-node.example.test'
  const dir = mkdtempSync(join(tmpdir(), 'daneel-demo-'))
  try {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const keyPath = join(dir, `${name}.key.pem`)
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
    const crtPath = join(dir, `${name}.crt.pem`)
    const res = spawnSync('openssl', ['req', '-new', '-x509', '-key', keyPath, '-out', crtPath, '-days', '1', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`], { encoding: 'utf8' })
    if (res.status !== 0) throw new DaneelError('ERR_IO', `openssl could not create the certificate: ${res.stderr ?? res.error?.message ?? ''}`.trim())
    const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' })
    const digest = createHash('sha256').update(spki).digest('hex')
    if (parsed.values.json === true) {
      process.stdout.write(`${JSON.stringify({ name, usage: 3, selector: 1, matchingType: 1, data: digest })}\n`)
    } else {
      process.stdout.write(`throw-away identity ${name} (key and certificate in ${dir}, removed on exit)\n`)
      process.stdout.write(`${name}. IN TLSA 3 1 1 ${digest}\n`)
    }
    return 0
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
